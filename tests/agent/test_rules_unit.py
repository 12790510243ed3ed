"""The rules engine on contract-shaped ingestion answers: one test per signal, and a healthy one.
(The same signals from real traffic through a real ingestion-service: test_rules_real.py.)"""

from __future__ import annotations

from tests.agent.fake_ingestion import (
    FakeIngestion,
    backend,
    overview,
    response_times,
    saturation,
    series,
)
from tests.agent.helpers import analyze_fake, finding, text


def healthy() -> FakeIngestion:
    fake = FakeIngestion()
    fake.set("overview", overview(9000, e4=90, e5=9, previous=overview(8800, e4=88, e5=8)))
    fake.set("response_times", response_times(9000, p95=120, p99=240))
    fake.set("backends", {"backends": [backend("be_api", 6000), backend("be_static", 3000, p95=20, p99=40)]})
    fake.set("backends", {"backends": [backend("be_api", 5900), backend("be_static", 2900)]}, previous=True)
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"200": 8901, "404": 90, "500": 9}})
    fake.set("rps", series([600] * 15))
    for name, n in (("be_api", 400), ("be_static", 200)):
        fake.set("rps", series([n] * 30), backend=name)
    fake.set("saturation", saturation(queued=3, srv_queue=1))
    fake.set("termination_states", {"window_seconds": 900, "termination_states": {"----": 8990, "CD--": 10}})
    return fake


async def test_healthy_baseline_is_ok_everywhere() -> None:
    report = await analyze_fake(healthy())
    assert report.overall_severity == "ok"
    assert [f.severity for f in report.findings] == ["ok", "ok", "ok", "ok"]
    assert [f.specialist for f in report.findings] == ["latency", "errors", "saturation", "traffic"]
    assert report.title.startswith("Healthy")
    assert report.ungrounded_claims == []
    assert "no action needed" in report.recommendations[0].lower()
    assert report.engine.kind == "rules" and report.engine.tool_calls > 10
    assert report.sources == {"ingestion": "ok"}


async def test_slow_backend_with_5xx_is_a_regression_to_roll_back() -> None:
    fake = healthy()
    fake.set("response_times", response_times(9000, p95=900, p99=2600))
    fake.set("response_times", response_times(8800, p95=120, p99=240), previous=True)
    fake.set("backends", {"backends": [backend("be_checkout", 3000, rate5=14.0, p95=1800, p99=3100),
                                        backend("be_api", 6000)]})
    fake.set("overview", overview(9000, e5=480, previous=overview(8800, e5=8)))
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"200": 8520, "503": 300, "500": 180}})
    report = await analyze_fake(fake)
    assert report.overall_severity == "critical"
    assert finding(report, "latency").severity == "critical"
    assert finding(report, "errors").severity == "critical"
    assert "be_checkout" in finding(report, "latency").summary
    assert "3100 ms" in finding(report, "latency").summary
    assert "be_checkout" in report.title
    assert "roll back" in report.recommendations[0].lower() and "be_checkout" in report.recommendations[0]
    assert report.ungrounded_claims == []


async def test_401_storm_points_at_authentication() -> None:
    fake = healthy()
    fake.set("overview", overview(9000, e4=3600, e5=9, previous=overview(8800, e4=88, e5=8)))
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"200": 5300, "404": 700}}, backend="be_api")
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"200": 5391, "401": 3500, "404": 100, "500": 9}})
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"401": 2900, "200": 100}}, backend="be_auth")
    fake.set("backends", {"backends": [backend("be_api", 6000), backend("be_auth", 3000)]})
    report = await analyze_fake(fake)
    errors = finding(report, "errors")
    assert errors.severity == "warning" and report.overall_severity == "warning"
    assert "401" in errors.summary and "be_auth" in errors.summary
    assert "auth" in text(report)
    assert "roll back" not in report.recommendations[0].lower()
    assert report.ungrounded_claims == []


async def test_4xx_flood_without_5xx_is_not_an_outage() -> None:
    fake = healthy()
    fake.set("overview", overview(20000, e4=11000, e5=9, previous=overview(8800, e4=88, e5=8)))
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"200": 8991, "429": 10500, "404": 500}})
    report = await analyze_fake(fake)
    assert finding(report, "errors").severity == "warning"
    assert finding(report, "latency").severity == "ok"
    assert "not an outage" in text(report)
    assert "rate-limit" in text(report) or "block" in text(report)


async def test_traffic_to_zero_is_critical_and_points_upstream() -> None:
    fake = healthy()
    fake.set("overview", overview(0, previous=overview(8800, e4=88, e5=8)))
    fake.set("response_times", response_times(0, p95=0, p99=0))
    fake.set("backends", {"backends": []})
    fake.set("rps", series([0] * 15))
    report = await analyze_fake(fake)
    traffic = finding(report, "traffic")
    assert traffic.severity == "critical" and report.overall_severity == "critical"
    assert "zero" in traffic.summary and "8800" in traffic.summary
    assert "load balancer" in text(report) and "dns" in text(report)
    assert finding(report, "latency").severity == "ok"  # no requests: nothing slow
    assert report.ungrounded_claims == []


async def test_traffic_stopping_inside_the_window_is_seen_in_the_series() -> None:
    fake = healthy()
    fake.set("overview", overview(6000, previous=overview(0)))
    fake.set("rps", series([600] * 10 + [0] * 5))
    report = await analyze_fake(fake)
    assert finding(report, "traffic").severity == "critical"
    assert "600" in finding(report, "traffic").summary


async def test_one_backend_losing_its_traffic_is_named() -> None:
    fake = healthy()
    fake.set("backends", {"backends": [backend("be_static", 600)]}, window="3m")  # be_api: none lately
    report = await analyze_fake(fake)
    traffic = finding(report, "traffic")
    assert traffic.severity == "critical" and "be_api" in traffic.summary
    assert "be_api" in report.recommendations[0]


async def test_sustained_queueing_is_saturation_and_names_the_backend() -> None:
    fake = healthy()
    fake.set("saturation", saturation(queued=2400, srv_queue=60, be_queue=30, srv_conn=100))
    fake.set("saturation", saturation(queued=2300, srv_queue=60, be_queue=30, srv_conn=100), backend="be_api")
    fake.set("saturation", saturation(queued=100, srv_queue=2, srv_conn=10), backend="be_static")
    fake.set("response_times", response_times(9000, p95=700, p99=950))
    fake.set("backends", {"backends": [backend("be_api", 6000, p95=800, p99=990), backend("be_static", 3000)]})
    report = await analyze_fake(fake)
    sat = finding(report, "saturation")
    assert sat.severity == "warning"
    assert "be_api" in sat.summary and "2300" in sat.summary
    assert report.overall_severity == "warning"
    assert any("scale out" in r.lower() and "maxconn" in r.lower() for r in report.recommendations[:2])
    assert report.ungrounded_claims == []


async def test_queue_timeouts_make_saturation_critical() -> None:
    fake = healthy()
    fake.set("saturation", saturation(queued=2400, srv_queue=60))
    fake.set("termination_states", {"window_seconds": 900, "termination_states": {"----": 8000, "sQ--": 300}})
    report = await analyze_fake(fake)
    assert finding(report, "saturation").severity == "critical"


async def test_redis_memory_above_threshold_warns() -> None:
    fake = healthy()
    fake.set("saturation", saturation(mem_pct=91.5))
    report = await analyze_fake(fake)
    assert finding(report, "saturation").severity == "warning"
    assert "91.5%" in finding(report, "saturation").summary
    assert any("maxmemory" in r for r in report.recommendations)


async def test_refused_connections_point_at_dead_servers() -> None:
    fake = healthy()
    fake.set("overview", overview(9000, e5=1200, previous=overview(8800, e5=8)))
    fake.set("backends", {"backends": [backend("be_api", 6000, rate5=20.0), backend("be_static", 3000)]})
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"200": 7800, "503": 1200}})
    fake.set("termination_states", {"window_seconds": 900, "termination_states": {"----": 7800, "SC--": 1200}})
    report = await analyze_fake(fake)
    assert report.overall_severity == "critical"
    assert "be_api" in report.title
    assert "pool" in report.recommendations[0] and "health checks" in report.recommendations[0]


async def test_scope_is_respected_in_every_query() -> None:
    fake = healthy()
    await analyze_fake(fake, backend="be_api")
    scoped = [params for path, params in fake.calls if path != "/health"]
    assert scoped and all(params.get("backend") == "be_api" for params in scoped if "backend" in params)
    assert sum(1 for params in scoped if params.get("backend") == "be_api") >= 6


async def test_too_few_requests_are_not_judged() -> None:
    fake = FakeIngestion()
    fake.set("overview", overview(5, e5=3))
    fake.set("response_times", response_times(5, p95=4000, p99=5000))
    report = await analyze_fake(fake)
    assert report.overall_severity == "ok"
    assert "too few" in finding(report, "latency").summary


async def test_4xx_storm_on_a_small_backend_is_seen_below_the_site_wide_threshold() -> None:
    fake = healthy()
    fake.set("overview", overview(9000, e4=1100, e5=9, previous=overview(8800, e4=88, e5=8)))  # 12% site-wide
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"200": 7700, "404": 100}}, backend="be_api")
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"401": 980, "400": 20, "200": 200}}, backend="be_hooks")
    fake.set("backends", {"backends": [backend("be_api", 7800), backend("be_hooks", 1200)]})
    report = await analyze_fake(fake)
    errors = finding(report, "errors")
    assert errors.severity == "warning" and "be_hooks" in errors.summary and "401 × 980" in errors.summary
    assert "be_hooks" in report.title and "auth" in text(report)
    assert report.ungrounded_claims == []


async def test_identical_queries_within_one_analysis_are_asked_once() -> None:
    fake = healthy()
    report = await analyze_fake(fake)
    asked = [(path, tuple(sorted(params.items()))) for path, params in fake.calls]
    assert len(asked) == len(set(asked)), "an identical query went to ingestion twice"
    evidence_calls = sum(len(f.evidence) for f in report.findings)
    assert evidence_calls > len(asked)  # the specialists still each hold the answers as evidence
    assert ("/metrics/backends", (("end", "2026-01-01T10:15:00Z"), ("window", "15m"))) in asked


async def test_surge_against_a_covered_previous_window_warns() -> None:
    fake = healthy()
    fake.set("overview", overview(27000, e5=20, previous=overview(6000)))
    fake.set("rps", series([400] * 15 + [1800] * 15))
    report = await analyze_fake(fake)
    traffic = finding(report, "traffic")
    assert traffic.severity == "warning" and "surge" in traffic.summary.lower()
    assert any("scale out" in r.lower() for r in report.recommendations)


async def test_logs_that_just_started_are_not_a_surge() -> None:
    fake = healthy()
    fake.set("overview", overview(27000, e5=20, previous=overview(1200)))
    fake.set("rps", series([0] * 14 + [1200] + [1800] * 15))
    report = await analyze_fake(fake)
    assert finding(report, "traffic").severity == "ok", finding(report, "traffic").summary


async def test_a_backend_gone_silent_for_the_whole_window_is_named() -> None:
    fake = healthy()
    fake.set("rps", series([600] * 15 + [400] * 15))
    fake.set("backends", {"backends": [backend("be_api", 6000)]})
    fake.set("backends", {"backends": [backend("be_api", 5900), backend("be_pay", 2900)]}, previous=True)
    report = await analyze_fake(fake)
    traffic = finding(report, "traffic")
    assert traffic.severity == "critical"
    assert "Backend be_pay lost its traffic: 0 requests in the last 15m after 2900" in traffic.summary
    assert report.ungrounded_claims == []


async def test_steady_backends_against_a_covered_window_are_not_probed() -> None:
    fake = healthy()
    fake.set("rps", series([600] * 30))
    await analyze_fake(fake)
    assert not [params for path, params in fake.calls if path == "/metrics/rps" and "backend" in params]
    assert len([params for path, params in fake.calls if path == "/metrics/backends"]) == 3  # 15m, before, 3m
    assert not [params for path, params in fake.calls if path == "/metrics/status-codes" and "backend" in params]

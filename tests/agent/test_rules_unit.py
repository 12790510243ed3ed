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


def report_calls(report) -> list[tuple[str, dict]]:
    return [(e.tool, e.arguments) for f in report.findings for e in f.evidence]


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
    fake.set("backends", {"backends": [backend("be_checkout", 2900, p95=300, p99=450), backend("be_api", 5900)]},
             previous=True)
    fake.set("overview", overview(9000, e5=480, previous=overview(8800, e5=8)))
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"200": 8520, "503": 300, "500": 180}})
    report = await analyze_fake(fake)
    assert report.overall_severity == "critical"
    assert finding(report, "latency").severity == "critical"
    assert finding(report, "errors").severity == "critical"
    assert "be_checkout" in finding(report, "latency").summary
    assert "3100 ms" in finding(report, "latency").summary
    assert "be_checkout had p95 300 ms, p99 450 ms" in finding(report, "latency").summary
    assert "be_checkout" in report.title
    assert "regressed" in report.diagnosis and "rose together" in report.diagnosis
    assert report.recommendations[0].startswith("Roll back") and "be_checkout" in report.recommendations[0]
    assert report.ungrounded_claims == []


def slow_backend_newly_failing(previous_p95: float, previous_requests: int = 2900) -> FakeIngestion:
    """be_export is over the latency threshold now; `previous_p95` is its own p95 in the window
    before; its 502s (servers aborting, SH--) are what is new."""
    fake = healthy()
    fake.set("response_times", response_times(9000, p95=610, p99=900))
    fake.set("response_times", response_times(8800, p95=608, p99=880), previous=True)
    fake.set("backends", {"backends": [backend("be_export", 3000, rate5=22.0, p95=690, p99=950),
                                        backend("be_api", 6000)]})
    fake.set("backends", {"backends": [backend("be_export", previous_requests, p95=previous_p95, p99=940),
                                        backend("be_api", 5900)]}, previous=True)
    fake.set("overview", overview(9000, e5=660, previous=overview(8800, e5=8)))
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"200": 8340, "502": 660}})
    fake.set("termination_states", {"window_seconds": 900, "termination_states": {"----": 8340, "SH--": 660}})
    return fake


async def test_a_backend_that_was_already_slow_and_now_fails_is_not_a_regression() -> None:
    report = await analyze_fake(slow_backend_newly_failing(previous_p95=680))
    latency = finding(report, "latency")
    assert latency.severity == "warning" and finding(report, "errors").severity == "critical"
    # like with like: be_export against its own previous window, the site against the site's
    assert "be_export already had p95 680 ms, p99 940 ms" in latency.summary
    assert "standing slowness" in latency.summary
    assert "Site-wide in the 15m before: p95 608 ms" in latency.summary
    assert latency.signals["latency_rose[be_export]"] == 0.0
    assert "regressed" not in report.diagnosis and "rose together" not in report.diagnosis
    assert "abort connections" in report.diagnosis and "be_export" in report.diagnosis
    assert not any(r.lower().startswith("roll back") for r in report.recommendations)
    assert "take it out of the pool" in report.recommendations[0]
    assert any("standing slowness" in r for r in report.recommendations)
    assert report.ungrounded_claims == []
    previous_backends = [p for path, p in report_calls(report) if path == "get_backends" and "end" in p]
    assert previous_backends, "the backends' previous window must be read to compare like with like"


async def test_a_backend_whose_latency_rose_with_its_5xx_is_a_regression() -> None:
    report = await analyze_fake(slow_backend_newly_failing(previous_p95=120))
    assert finding(report, "latency").signals["latency_rose[be_export]"] == 1.0
    assert "be_export regressed" in report.diagnosis
    assert report.recommendations[0].startswith("Roll back")


async def test_no_regression_story_without_enough_requests_to_compare() -> None:
    report = await analyze_fake(slow_backend_newly_failing(previous_p95=120, previous_requests=5))
    latency = finding(report, "latency")
    assert "latency_rose[be_export]" not in latency.signals
    assert "No comparable traffic on be_export" in latency.summary
    assert "regressed" not in report.diagnosis
    assert not report.recommendations[0].startswith("Roll back")


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


async def test_redis_advice_follows_the_configured_threshold() -> None:
    """REDIS_MEMORY_WARNING_PCT=60: 70 % is hot for the grade and for the synthesis' advice alike
    (the synthesis has no threshold of its own)."""
    fake = healthy()
    fake.set("saturation", saturation(mem_pct=70.0))
    report = await analyze_fake(fake, overrides={"redis_memory_warning_pct": 60})
    assert finding(report, "saturation").severity == "warning"
    assert any("maxmemory" in r for r in report.recommendations)
    default = await analyze_fake(fake)
    assert finding(default, "saturation").severity == "ok"
    assert not any("maxmemory" in r for r in default.recommendations)


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


def pool(**servers: tuple[int, int]) -> list[dict]:
    """Per-server entries in the shape ingestion adds to /metrics/backends: name → (requests, 5xx)."""
    return [{"name": name, "requests": n, "errors_5xx": e, "error_rate_5xx_pct": round(100 * e / n, 3),
             "p95_ms": 90.0} for name, (n, e) in servers.items()]


def failing_pool(servers: list[dict]) -> FakeIngestion:
    fake = healthy()
    be_api = backend("be_api", 6000, rate5=25.5)
    be_api["servers"] = servers
    fake.set("backends", {"backends": [be_api, backend("be_static", 3000, p95=20, p99=40)]})
    fake.set("overview", overview(9000, e5=1530, previous=overview(8800, e5=8)))
    fake.set("status_codes", {"window_seconds": 900, "status_codes": {"200": 7470, "502": 1500, "500": 30}})
    fake.set("termination_states", {"window_seconds": 900, "termination_states": {"----": 7470, "SH--": 1500}})
    return fake


async def test_one_bad_server_in_the_pool_is_named_and_taken_out() -> None:
    report = await analyze_fake(failing_pool(pool(app1=(1500, 10), app2=(1500, 10), app3=(1500, 1500), app4=(1500, 10))))
    errors = finding(report, "errors")
    assert "Server app3 of be_api alone returns 5xx on 100.0% of its requests" in errors.summary
    assert errors.signals["server_error_rate_5xx_pct[be_api/app3]"] == 100.0
    assert "server app3 of backend be_api" in report.diagnosis
    assert report.title == "Critical: 5xx errors (one bad server, app3) on backend be_api"
    assert report.recommendations[0].startswith("Take server app3 out of the pool of be_api")
    assert "set server be_api/app3 state maint" in report.recommendations[0]
    assert report.ungrounded_claims == []


async def test_errors_spread_over_the_pool_name_no_server() -> None:
    report = await analyze_fake(failing_pool(pool(app1=(1500, 380), app2=(1500, 380), app3=(1500, 390), app4=(1500, 380))))
    assert not any(k.startswith("server_error_rate") for k in finding(report, "errors").signals)
    assert "app3" not in text(report)
    assert "aborts connections" in report.recommendations[0]  # the generic advice: find the server in the log


async def test_a_bad_server_in_a_regressed_backend_is_taken_out_before_rolling_back() -> None:
    fake = failing_pool(pool(app1=(1500, 10), app2=(1500, 1500)))
    fake.set("backends", {"backends": [{**backend("be_api", 3000, rate5=50.3, p95=900, p99=2400),
                                         "servers": pool(app1=(1500, 10), app2=(1500, 1500))}]})
    fake.set("backends", {"backends": [backend("be_api", 2900, p95=120, p99=240)]}, previous=True)
    fake.set("response_times", response_times(9000, p95=700, p99=2000))
    report = await analyze_fake(fake)
    assert "be_api regressed" in report.diagnosis
    assert report.recommendations[0].startswith("Take server app2 out of the pool of be_api")
    assert report.recommendations[1].startswith("Roll back")


def test_diagnosis_quotes_each_findings_essentials_without_site_wide_repeats() -> None:
    from agent_service.models import Finding
    from agent_service.rules.synthesis import essentials, synthesize

    summary = ("Backend be_api answers 5xx to 16.7% of its 867 requests (critical). "
               "Site-wide: 5xx 8.4% of 1735 requests. Most frequent 5xx: 503 × 74. "
               "Top abnormal termination state sQ-- × 74: the server timed out in a queue. Fourth one.")
    assert essentials(summary) == ("Backend be_api answers 5xx to 16.7% of its 867 requests (critical). "
                                   "Most frequent 5xx: 503 × 74. "
                                   "Top abnormal termination state sQ-- × 74: the server timed out in a queue.")
    findings = [Finding(specialist=name, severity="ok", summary="Fine.") for name in ("latency", "saturation", "traffic")]
    findings.insert(1, Finding(specialist="errors", severity="critical", summary=summary,
                               signals={"error_rate_5xx_pct[be_api]": 16.7, "requests": 1735}))
    diagnosis = synthesize(findings).diagnosis
    assert "16.7% of its 867 requests" in diagnosis and "503 × 74" in diagnosis
    assert "Site-wide: 5xx 8.4%" not in diagnosis and "Fourth one" not in diagnosis

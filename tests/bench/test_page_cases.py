"""The pure parts of `python -m bench page`: the case table, the servers' behaviour, matching
emails to cases, the figures, and the configs built from the shipped files."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

from bench.page import alertmanager_config, haproxy_config, prometheus_config
from bench.page_cases import (
    CASES,
    CaseResult,
    Bursts,
    alert_names,
    answer,
    backend_in,
    case_named,
    is_failure,
    match_mail,
    rate_at,
    table,
)

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"


def test_the_case_table_holds_the_issues_faults_and_targets_and_three_healthy_shapes() -> None:
    names = [case.backend for case in CASES]
    assert len(names) == len(set(names))
    targets = {case.backend: case.target_s for case in CASES if case.kind == "fault"}
    assert targets == {"page_nosrv": 90, "page_5xx20": 180, "page_5xx5": 360, "page_p99x10": 360,
                       "page_refuse1of3": 180}
    healthy = [case for case in CASES if case.kind == "healthy"]
    assert {case.shape for case in healthy} == {"steady", "rise_fall", "bursty"}
    assert all(case.fault == "none" and case.target_s is None for case in healthy)
    assert case_named("page_refuse1of3").servers == 3


def test_servers_answer_the_cases_fault_only_once_it_started() -> None:
    def share_5xx(backend: str, faulty: bool) -> float:
        rng = random.Random(1)
        answers = [answer(case_named(backend), faulty, rng) for _ in range(20_000)]
        return sum(a.status >= 500 for a in answers) / len(answers)

    assert 0.18 < share_5xx("page_5xx20", True) < 0.22
    assert 0.04 < share_5xx("page_5xx5", True) < 0.06
    assert share_5xx("page_5xx20", False) < 0.003  # the healthy noise only
    rng = random.Random(2)
    slow = sorted(answer(case_named("page_p99x10"), True, rng).delay_s for _ in range(20_000))
    fast = sorted(answer(case_named("page_p99x10"), False, rng).delay_s for _ in range(20_000))
    assert 0.10 < fast[int(0.99 * len(fast))] < 0.25
    assert 1.0 < slow[int(0.99 * len(slow))] < 2.5


def test_traffic_shapes() -> None:
    rise_fall = case_named("healthy_rise_fall")
    assert rate_at(rise_fall, 0, 600) == 2.0 and rate_at(rise_fall, 600, 600) == 2.0
    assert rate_at(rise_fall, 300, 600) == 20.0
    bursty = case_named("healthy_bursty")
    bursts = Bursts.plan(900)
    assert len(bursts.starts) >= 8
    start = bursts.starts[0]
    assert rate_at(bursty, start + 1, 900, bursts) == 30.0
    assert rate_at(bursty, start + 11, 900, bursts) == 3.0


def test_an_email_belongs_to_the_one_case_its_subject_names() -> None:
    assert match_mail("[CRITICAL] #3 High5xxRate (backend page_5xx20) — opened") == "page_5xx20"
    assert match_mail("[CRITICAL] #4 High5xxRate (backend page_5xx5) — opened") == "page_5xx5"
    assert match_mail("[WARNING] #9 HighP99Latency (backend healthy_bursty) — opened") == "healthy_bursty"
    assert not backend_in("backend page_5xx50", "page_5xx5")
    assert not backend_in("backend page_nosrv_2", "page_nosrv")
    assert match_mail("[FIRING:1] IngestionLagHigh (copilot critical)") is None
    assert match_mail("page_5xx5 and page_5xx20 both") is None  # ambiguous: no case
    assert alert_names("fired: High5xxRate, BackendNoServerAvailable; High5xxRate") == [
        "BackendNoServerAvailable", "High5xxRate"]


def test_time_to_page_and_verdicts() -> None:
    fault = CaseResult("page_nosrv", "fault", first_failure_s=360.2, emails=[(430.0, "s"), (700.0, "u")])
    assert round(fault.time_to_page_s or 0, 1) == 69.8
    assert fault.verdict(case_named("page_nosrv")) == "ok"
    late = CaseResult("page_nosrv", "fault", first_failure_s=360.0, emails=[(460.0, "s")])
    assert late.verdict(case_named("page_nosrv")) == "over target"
    assert CaseResult("page_5xx5", "fault", first_failure_s=360.0).verdict(case_named("page_5xx5")) == "NOT PAGED"
    assert CaseResult("healthy_steady", "healthy").verdict(case_named("healthy_steady")) == "ok"
    paged = CaseResult("healthy_steady", "healthy", emails=[(100.0, "s")])
    assert paged.verdict(case_named("healthy_steady")) == "FALSE PAGE"
    printed = table([fault, paged], healthy_minutes=11)
    assert "| page_nosrv | 360.2 | 430.0 | 69.8 | ≤ 90 s | 2 |" in printed
    assert "| healthy_steady | - | 100.0 | - | 0 pages in 11 min | 1 |" in printed and "FALSE PAGE" in printed


def test_failing_request() -> None:
    assert is_failure(None, 0.1) and is_failure(503, 0.1) and is_failure(200, 1.2)
    assert not is_failure(200, 0.9) and not is_failure(404, 0.1)


def test_configs_keep_the_shipped_intervals_routes_and_timers() -> None:
    shipped_prom = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    prom = prometheus_config(shipped_prom, rules=Path("/tmp/r.yml"), alertmanager="127.0.0.1:9",
                             targets={"oncall-ingestion": "127.0.0.1:1"})
    assert prom["global"] == shipped_prom["global"]
    assert [job["job_name"] for job in prom["scrape_configs"]] == ["oncall-ingestion"]
    assert prom["scrape_configs"][0]["static_configs"] == [{"targets": ["127.0.0.1:1"]}]
    shipped_am = yaml.safe_load((MONITORING / "alertmanager.yml").read_text())
    am = alertmanager_config(shipped_am, agent_url="http://127.0.0.1:2", token_file=Path("/tmp/t"), smtp_port=25)
    assert am["route"] == shipped_am["route"] and am["inhibit_rules"] == shipped_am["inhibit_rules"]
    assert am["receivers"][0]["webhook_configs"][0]["url"] == "http://127.0.0.1:2/alerts"
    assert shipped_am["receivers"][0]["webhook_configs"][0]["url"] == "http://agent:8001/alerts"  # not mutated


def test_haproxy_config_has_one_backend_per_case() -> None:
    ports = {case.backend: [1000 + 10 * i + k for k in range(case.servers)] for i, case in enumerate(CASES)}
    config = haproxy_config(syslog_port=514, frontend_port=80, ports=ports)
    for case in CASES:
        assert f"backend {case.backend}\n" in config
        assert f"use_backend {case.backend} if {{ path_beg /{case.backend}/ }}" in config
    assert config.count(" check inter") == 1  # only page_nosrv's server is health-checked
    assert "server srv3 127.0.0.1:1042" in config  # page_refuse1of3 (the 5th case) has three servers

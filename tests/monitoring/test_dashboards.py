"""Grafana provisioning: the dashboards are up to date with their source, and every panel's PromQL
runs on a real Prometheus scraping the real services (ingestion fed with HAProxy lines, one
rules-engine analysis, one email through the notifier) and returns data, except the few panels
listed in PARSE_ONLY with the reason they cannot have data in a short test."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.harness import (
    Prometheus,
    Service,
    SmtpSink,
    start_prometheus,
    start_service,
    wait_until,
)
from tests.support.binaries import require_binary
from tests.support.net import free_udp_port
from tests.support.redis_proc import RedisProcess

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "monitoring" / "grafana"
PROVISIONING = GRAFANA / "provisioning"
sys.path.insert(0, str(REPO / "scripts"))
from incident_replay import Plan, incident_lines  # noqa: E402

# (dashboard uid, panel title, refId) -> why it cannot have data here; it must still parse and run.
PARSE_ONLY = {
    ("oncall-copilot-self", "LLM tokens per minute by kind", "A"): "rules engine: no LLM call",
    ("oncall-copilot-self", "LLM cost (USD, last hour)", "A"): "rules engine: no LLM call",
    ("oncall-copilot-self", "LLM calls by role and outcome", "A"): "rules engine: no LLM call",
    ("oncall-golden-signals", "Firing alerts", "A"): "nothing fires in this test (the e2e test covers alerts)",
}


def load_source() -> Any:
    spec = importlib.util.spec_from_file_location("oncall_dashboards", GRAFANA / "dashboards.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted((PROVISIONING / "dashboards" / "json").glob("*.json"))}


def panel_targets() -> list[tuple[str, str, str, str]]:
    found = []
    for board in dashboards().values():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                found.append((board["uid"], panel["title"], target["refId"], target["expr"]))
    return found


def concrete(expr: str) -> str:
    """Grafana's variables expanded (All backends). The rate interval spans the whole fixture: the
    traffic was sent at its start, and on a busy machine that is more than Grafana's 1m ago — a
    shorter range would then read 0/0 (NaN) although every series is there."""
    return expr.replace("$__rate_interval", "10m").replace("$backend", ".*")


def test_committed_dashboards_match_their_source() -> None:
    rendered = load_source().render()
    on_disk = {path.name: path.read_text() for path in (PROVISIONING / "dashboards" / "json").glob("*.json")}
    assert rendered == on_disk, "run: .venv/bin/python monitoring/grafana/dashboards.py"


def test_provisioning_points_at_the_prometheus_datasource() -> None:
    (datasource,) = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "dashboards.yml").read_text())["providers"][0]
    assert provider["options"]["path"] == "/etc/grafana/provisioning/dashboards/json"
    uids = set()
    for board in dashboards().values():
        uids.add(board["uid"])
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == datasource["uid"]
                assert panel["targets"], panel["title"]
    assert uids == {"oncall-golden-signals", "oncall-copilot-self"}


def test_golden_signals_dashboard_covers_the_four_signals() -> None:
    exprs = " ".join(expr for uid, _, _, expr in panel_targets() if uid == "oncall-golden-signals")
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}, sum by (backend, le) (rate(oncall_request_duration_seconds_bucket" in exprs
    for needle in ('code_class="5xx"', 'code_class="4xx"', "oncall_haproxy_queue_max", "oncall_redis_used_memory_bytes",
                   "sum by (backend) (rate(oncall_requests_total"):
        assert needle in exprs


def test_parse_only_list_names_real_panels() -> None:
    known = {(uid, title, ref) for uid, title, ref, _ in panel_targets()}
    assert set(PARSE_ONLY) <= known


# ------------------------------------------------------------------------------ against a real stack
@pytest.fixture(scope="module")
def live_stack(tmp_path_factory: pytest.TempPathFactory, shared_fixtures: Path) -> Iterator[Prometheus]:
    require_binary("prometheus")
    workdir = tmp_path_factory.mktemp("dashboards")
    redis_proc = RedisProcess(require_binary("redis-server"),
                              extra=["--maxmemory", "64mb", "--maxmemory-policy", "volatile-ttl"]).start()
    sink = SmtpSink().start()
    started: list[Service] = []
    prometheus = None
    try:
        ingestion = start_service("ingestion-service", workdir, {
            "REDIS_URL": redis_proc.url, "SYSLOG_UDP_PORT": str(free_udp_port())}, ready_path="/health/ready")
        started.append(ingestion)
        notifier = start_service("notifier-service", workdir, {
            "REDIS_URL": redis_proc.url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port)},
            ready_path="/health/ready")
        started.append(notifier)
        agent = start_service("agent-service", workdir, {
            "REDIS_URL": redis_proc.url, "INGESTION_URL": ingestion.url, "NOTIFIER_URL": notifier.url,
            "LLM_ENGINE": "rules"})
        started.append(agent)
        prometheus = start_prometheus(
            workdir / "prometheus",
            targets={"oncall-ingestion": f"127.0.0.1:{ingestion.port}", "oncall-agent": f"127.0.0.1:{agent.port}",
                     "oncall-notifier": f"127.0.0.1:{notifier.port}"},
            rule_files=[REPO / "monitoring" / "alert-rules.yml"],
        )
        wait_until(lambda: prometheus.target_health() == ["up"] * 3, timeout=20, what="three targets up")
        lines = incident_lines(Plan(minutes=10, bad_minutes=4, per_minute=20))
        half = len(lines) // 2
        # two batches a few scrapes apart, so that rate() sees the counters move
        for batch in (lines[:half], lines[half:]):
            response = httpx.post(f"{ingestion.url}/logs", content="\n".join(batch),
                                  headers={"Content-Type": "text/plain"}, timeout=30)
            assert response.status_code == 202, response.text
            assert response.json()["accepted"] == len(batch)
            time.sleep(2.5)
        # two analyses a few scrapes apart: the duration histogram must move between scrapes
        for _ in range(2):
            report = httpx.post(f"{agent.url}/analyze", json={"window": "15m"}, timeout=60)
            assert report.status_code == 200, report.text
            time.sleep(2.5)
        # one Alertmanager delivery as captured from the real Alertmanager (shared fixtures)
        delivery = json.loads((shared_fixtures / "alertmanager" / "firing-single.json").read_text())
        alerts = httpx.post(f"{agent.url}/alerts", json=delivery["body"], timeout=10)
        assert alerts.status_code == 202, alerts.text
        notify = httpx.post(f"{notifier.url}/notify", timeout=10, json={
            "idempotency_key": "dashboards-test-1", "incident_id": "inc-dash", "event": "opened",
            "severity": "critical", "title": "dashboards test", "summary": "s", "report_markdown": "r",
            "url": None, "to": None})
        assert notify.status_code == 202, notify.text
        wait_until(lambda: sink.received(), timeout=20, what="the email")
        time.sleep(3)  # a few more scrapes after the last change
        yield prometheus
    finally:
        if prometheus is not None:
            prometheus.proc.stop()
        for service in started:
            service.proc.stop()
        sink.stop()
        redis_proc.stop()


def has_data(result: dict[str, Any]) -> bool:
    data = result["data"]
    if data["resultType"] == "scalar":
        return not math.isnan(float(data["result"][1]))
    return any(not math.isnan(float(sample["value"][1])) for sample in data["result"])


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.parametrize(("uid", "title", "ref", "expr"), panel_targets(),
                         ids=[f"{uid}:{title}:{ref}" for uid, title, ref, _ in panel_targets()])
def test_panel_query_runs_on_real_prometheus(live_stack: Prometheus, uid: str, title: str, ref: str, expr: str) -> None:
    result = live_stack.query(concrete(expr))
    assert result["status"] == "success", result
    if (uid, title, ref) in PARSE_ONLY:
        return
    assert has_data(result), f"{title}: no data for {concrete(expr)}"

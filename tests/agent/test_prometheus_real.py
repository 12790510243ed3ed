"""The Prometheus tools against the real Prometheus binary (Debian) scraping a real
ingestion-service on loopback every second, with a rule that always fires and a scrape target
that is down (it carries the label server="s2", as a node exporter on server s2 would)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from agent_service.ingestion_client import IngestionClient
from agent_service.models import AnalyzeRequest
from agent_service.orchestrator import Analyzer
from agent_service.prometheus.client import PrometheusClient
from agent_service.prometheus.summary import Bounds
from agent_service.rules import RulesEngine
from agent_service.tools.prometheus import LIST_ALERTS, QUERY_PROMETHEUS, ListAlertsTool, QueryPrometheusTool, prometheus_tools
from scripts.local_stack import wait_until
from tests.agent.helpers import finding, settings
from tests.agent.incidents.support import running_app, settings_for
from tests.agent.test_rules_real import feed
from tests.agent.traffic_gen import Backend, Phase, Traffic, failing, on_server
from tests.e2e.harness import Proc, ready
from tests.support.binaries import require_binary
from tests.support.net import free_port
from tests.support.redis_proc import RedisProcess
from tests.support.servers import ServiceProcess

pytestmark = [pytest.mark.real, pytest.mark.slow]

RULES = {"groups": [{"name": "test", "interval": "1s", "rules": [{
    "alert": "AlwaysFiring", "expr": "vector(1)", "labels": {"severity": "ticket"},
    "annotations": {"summary": "always true ({{ $value }})"}}]}]}


def _up(url: str, job: str) -> float | None:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": f'up{{job="{job}"}}'}, timeout=5).json()
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def _firing(url: str) -> bool:
    alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return any(a["state"] == "firing" for a in alerts)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_process: RedisProcess) -> Iterator[dict[str, Any]]:
    binary = require_binary("prometheus")
    workdir = tmp_path_factory.mktemp("prometheus-tools")
    ingestion = ServiceProcess("ingestion-service", {"REDIS_URL": redis_process.url, "PARSE_WORKERS": "0",
                                                     "INGEST_TOKEN": "", "LOG_LEVEL": "WARNING"})
    ingestion.start(ready_path="/health/ready")
    prometheus: Proc | None = None
    try:
        (workdir / "rules.yml").write_text(yaml.safe_dump(RULES))
        (workdir / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
            "rule_files": [str(workdir / "rules.yml")],
            "scrape_configs": [
                {"job_name": "ingestion", "metrics_path": "/prometheus/metrics",
                 "static_configs": [{"targets": [ingestion.url.removeprefix("http://")]}]},
                {"job_name": "app", "static_configs": [{"targets": [f"127.0.0.1:{free_port()}"],
                                                        "labels": {"server": "s2"}}]},
            ]}))
        port = free_port()
        prometheus = Proc("prometheus", [binary, f"--config.file={workdir / 'prometheus.yml'}",
                                         f"--storage.tsdb.path={workdir / 'data'}",
                                         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], workdir)
        url = f"http://127.0.0.1:{port}"
        ready(prometheus, f"{url}/-/ready")
        wait_until(lambda: _up(url, "ingestion") == 1 and _up(url, "app") == 0 and _firing(url), timeout=30,
                   what="ingestion scraped, the app target down, the rule firing", details=prometheus.logs)
        # The analysis window ends at the next whole minute, which Prometheus will have seen.
        end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        yield {"url": url, "ingestion": ingestion.url, "end": end, "proc": prometheus}
    finally:
        if prometheus is not None:
            prometheus.stop()
        ingestion.stop()


@pytest.fixture
async def client(stack: dict[str, Any]) -> AsyncIterator[PrometheusClient]:
    prom = PrometheusClient.create(stack["url"], timeout_s=5)
    try:
        yield prom
    finally:
        await prom.aclose()


async def test_instant_query_reads_the_scraped_ingestion_service(client: PrometheusClient) -> None:
    result = await QueryPrometheusTool(client, Bounds()).run({"query": 'up{job="ingestion"}'})
    assert result.status == "ok", result.error
    assert result.data["result_type"] == "vector" and result.data["series_total"] == 1
    (series,) = result.data["series"]
    assert series["labels"]["job"] == "ingestion" and series["value"] == 1.0
    scalar = await QueryPrometheusTool(client, Bounds()).run({"query": "scalar(count(up))"})
    assert scalar.status == "ok" and scalar.data["result_type"] == "scalar" and scalar.data["value"] == 2.0


async def test_range_query_summarises_each_series_and_widens_the_step(client: PrometheusClient) -> None:
    end = datetime.now(UTC)
    result = await QueryPrometheusTool(client, Bounds(max_points=10)).run(
        {"query": "up", "start": (end - timedelta(seconds=60)).isoformat(), "end": end.isoformat(), "step": "1s"})
    assert result.status == "ok", result.error
    assert result.data["result_type"] == "matrix" and result.data["step_s"] == 6.0  # 60 s / 10 points, not 1 s
    by_job = {s["labels"]["job"]: s for s in result.data["series"]}
    assert set(by_job) == {"ingestion", "app"}
    assert all(1 <= s["points"] <= 11 for s in by_job.values())
    assert by_job["app"]["max"] == 0.0 and by_job["app"]["last"] == 0.0
    assert by_job["ingestion"]["min"] == 1.0 and by_job["ingestion"]["mean"] == 1.0
    assert "values" not in by_job["ingestion"]  # a summary, never every point


async def test_too_many_series_are_cut_with_a_note(client: PrometheusClient) -> None:
    result = await QueryPrometheusTool(client, Bounds(max_series=3)).run({"query": '{job="ingestion"}'})
    assert result.status == "ok", result.error
    assert len(result.data["series"]) == 3 and result.data["series_total"] > 3
    assert f"cut to 3 of {result.data['series_total']}" in result.data["truncated"]


async def test_a_bad_query_is_a_clear_tool_error(client: PrometheusClient) -> None:
    result = await QueryPrometheusTool(client, Bounds()).run({"query": "up{"})
    assert result.status == "error"
    assert "HTTP 400" in (result.error or "") and "bad_data" in (result.error or "")
    bad_args = await QueryPrometheusTool(client, Bounds()).run({"query": "up", "step": "1s"})
    assert bad_args.status == "error" and "step needs start" in (bad_args.error or "")
    too_long = await QueryPrometheusTool(client, Bounds()).run(
        {"query": "up", "start": "2026-01-01T00:00:00Z", "end": "2026-01-03T00:00:00Z"})
    assert too_long.status == "error" and "24 h" in (too_long.error or "")


async def test_prometheus_down_is_a_tool_error() -> None:
    down = PrometheusClient.create(f"http://127.0.0.1:{free_port()}", timeout_s=2)
    try:
        query = await QueryPrometheusTool(down, Bounds()).run({"query": "up"})
        alerts = await ListAlertsTool(down, Bounds()).run({})
    finally:
        await down.aclose()
    assert query.status == "error" and "unreachable" in (query.error or "")
    assert alerts.status == "error" and "unreachable" in (alerts.error or "")


async def test_list_alerts_reports_the_firing_rule(client: PrometheusClient) -> None:
    result = await ListAlertsTool(client, Bounds()).run({})
    assert result.status == "ok", result.error
    assert result.data["firing"] == 1 and result.data["pending"] == 0
    (alert,) = result.data["alerts"]
    assert alert["alertname"] == "AlwaysFiring" and alert["state"] == "firing"
    assert alert["labels"] == {"severity": "ticket"} and alert["annotations"]["summary"] == "always true (1)"
    other = await ListAlertsTool(client, Bounds()).run({"labels": {"backend": "be_api"}})
    assert other.status == "ok" and other.data == {"firing": 0, "pending": 0, "alerts": []}


def _refusing_s2(stack: dict[str, Any]) -> None:
    wait_until(lambda: datetime.now(UTC) > stack["end"] + timedelta(seconds=2), timeout=75, interval=0.5,
               what="the window's end to pass")
    feed(stack["ingestion"], Traffic(
        backends=[Backend("be_api", per_minute=240, servers=("s1", "s2"))], minutes=30, end=stack["end"],
        phases=[Phase("be_api", 15, on_server("s2", failing(1.0, 503, "SC--")))]))


async def _analyze(stack: dict[str, Any], prom: PrometheusClient):  # type: ignore[no-untyped-def]
    ingestion = IngestionClient.create(stack["ingestion"], timeout_s=10)
    try:
        analyzer = Analyzer(engine=RulesEngine(), ingestion=ingestion, settings=settings(),
                            extra_tools=prometheus_tools(prom, Bounds()))
        return await analyzer.analyze(AnalyzeRequest(window="15m", end=stack["end"]))
    finally:
        await ingestion.aclose()


async def test_rules_engine_grades_a_refusing_server_with_up_and_says_what_fires(
        stack: dict[str, Any], client: PrometheusClient, redis_url: str) -> None:
    _refusing_s2(stack)
    report = await _analyze(stack, client)
    errors = finding(report, "errors")
    assert "s2" in report.title and "refuses connections" in report.title
    assert "Prometheus agrees: the scrape target of be_api/s2 is down (up == 0)." in report.diagnosis
    assert "Prometheus has 1 alert firing (list_alerts in the errors finding's evidence)." in report.diagnosis
    asked = [(e.tool, e.arguments.get("query")) for e in errors.evidence if e.tool in (QUERY_PROMETHEUS, LIST_ALERTS)]
    assert asked == [(LIST_ALERTS, None), (QUERY_PROMETHEUS, "up == 0"), (QUERY_PROMETHEUS, "count(up)")]
    assert report.ungrounded_claims == []
    # Prometheus' own text (alert names, annotations, label values) stays in the tool results
    assert "AlwaysFiring" not in report.diagnosis and "always true" not in report.diagnosis
    assert "AlwaysFiring" in str(errors.evidence)
    # the other specialists do not ask again
    assert all(e.tool not in (QUERY_PROMETHEUS, LIST_ALERTS) for f in report.findings if f is not errors for e in f.evidence)

    # Prometheus down: the same analysis completes, says so, and the errors finding keeps the errors.
    down = PrometheusClient.create(f"http://127.0.0.1:{free_port()}", timeout_s=2)
    try:
        degraded = await _analyze(stack, down)
    finally:
        await down.aclose()
    assert degraded.title == report.title and all(f.status == "completed" for f in degraded.findings)
    assert "Prometheus agrees" not in degraded.diagnosis
    assert "Prometheus did not answer every question" in degraded.diagnosis
    failed = [e.result for e in finding(degraded, "errors").evidence if e.tool in (QUERY_PROMETHEUS, LIST_ALERTS)]
    assert failed and all("unreachable" in r["error"] for r in failed)
    assert degraded.ungrounded_claims == []


async def test_prometheus_url_gives_every_specialist_and_the_synthesis_the_tools(stack: dict[str, Any],
                                                                                 redis_url: str) -> None:
    async with running_app(settings_for(redis_url, "", prometheus_url=stack["url"])) as (app, _client):
        extra = [t.name for t in app.state.agent.analyzer.extra_tools]
    async with running_app(settings_for(redis_url, "")) as (app, _client):
        without = [t.name for t in app.state.agent.analyzer.extra_tools]
    assert {QUERY_PROMETHEUS, LIST_ALERTS} <= set(extra)
    assert QUERY_PROMETHEUS not in without and LIST_ALERTS not in without


"""The rules engine against a real ingestion-service and a real redis-server, fed with generated
traffic for each signal (HTTP JSON entries through POST /logs)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from agent_service.ingestion_client import IngestionClient
from agent_service.models import AlertRef, AnalyzeRequest, IncidentReport
from agent_service.orchestrator import Analyzer
from agent_service.rules import RulesEngine
from agent_service.runbooks.index import KnowledgeIndex
from agent_service.runbooks.models import IncidentDoc
from agent_service.runbooks.tool import SearchRunbooksTool
from agent_service.tools.base import Tool
from tests.agent.helpers import finding, settings, text
from tests.agent.traffic_gen import Backend, Phase, Traffic, failing, on_server, queueing, silent, slower
from tests.support.redis_proc import RedisProcess
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.real

# Whole minutes, in the recent past (inside ingestion's retention).
END = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
BACKENDS = [Backend("be_api", per_minute=240), Backend("be_web", per_minute=120, latency_ms=30, path="/")]


@pytest.fixture(scope="module")
def ingestion(redis_process: RedisProcess) -> Iterator[str]:
    proc = ServiceProcess("ingestion-service", {"REDIS_URL": redis_process.url, "PARSE_WORKERS": "0",
                                                "INGEST_TOKEN": "", "LOG_LEVEL": "WARNING"})
    proc.start(ready_path="/health/ready")
    try:
        yield proc.url
    finally:
        proc.stop()


def feed(url: str, traffic: Traffic) -> int:
    entries = list(traffic.entries())
    with httpx.Client(base_url=url, timeout=30) as http:
        for i in range(0, len(entries), 5000):
            body = json.dumps(entries[i : i + 5000])
            response = http.post("/logs", content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 202, response.text
            assert response.json()["rejected"] == 0, response.text
    return len(entries)


async def analyze(url: str, *, tools: Sequence[Tool] = (), **request: object) -> IncidentReport:
    client = IngestionClient.create(url, timeout_s=10)
    try:
        analyzer = Analyzer(engine=RulesEngine(), ingestion=client, settings=settings(), extra_tools=tools)
        return await analyzer.analyze(AnalyzeRequest(window="15m", end=END, **request))  # type: ignore[arg-type]
    finally:
        await client.aclose()


def scenario(*phases: Phase, minutes: int = 30) -> Traffic:
    return Traffic(backends=BACKENDS, minutes=minutes, end=END, phases=list(phases))


async def test_healthy_baseline_is_ok(ingestion: str, redis_url: str) -> None:
    assert feed(ingestion, scenario()) > 10_000
    report = await analyze(ingestion)
    assert [f.severity for f in report.findings] == ["ok"] * 4, [f.summary for f in report.findings]
    assert report.overall_severity == "ok" and report.sources["ingestion"] == "ok"
    assert report.ungrounded_claims == []
    assert "5400 requests" in finding(report, "traffic").summary  # 15 min × 360/min


async def test_slow_backend(ingestion: str, redis_url: str) -> None:
    feed(ingestion, scenario(Phase("be_api", 15, slower(25))))
    report = await analyze(ingestion)
    latency = finding(report, "latency")
    assert latency.severity == "critical" and "be_api" in latency.summary
    assert "be_web" not in latency.summary
    assert finding(report, "errors").severity == "ok" and finding(report, "traffic").severity == "ok"
    assert "be_api" in report.title and report.ungrounded_claims == []
    assert "be_api regressed" in " ".join(report.recommendations)


async def test_5xx_burst_with_slowdown_is_a_regression(ingestion: str, redis_url: str) -> None:
    feed(ingestion, scenario(Phase("be_api", 15, slower(20)), Phase("be_api", 15, failing(0.25, 500))))
    report = await analyze(ingestion)
    assert finding(report, "errors").severity == "critical"
    assert report.overall_severity == "critical"
    assert "roll back" in report.recommendations[0].lower() and "be_api regressed" in report.recommendations[0]
    assert "be_api slowed down" in report.diagnosis and "every server" in report.diagnosis
    assert report.ungrounded_claims == []


async def test_an_always_slow_backend_that_starts_failing_is_not_a_regression(ingestion: str, redis_url: str) -> None:
    backends = [Backend("be_export", per_minute=120, latency_ms=700, path="/export"), BACKENDS[1]]
    feed(ingestion, Traffic(backends=backends, minutes=30, end=END,
                            phases=[Phase("be_export", 15, failing(0.4, 502, "SH--"))]))
    report = await analyze(ingestion)
    latency = finding(report, "latency")
    assert latency.severity != "ok" and "already slow in the baseline" in latency.summary  # its own, not the site's
    assert finding(report, "errors").severity == "critical"
    assert "regress" not in text(report) and "abort" in report.diagnosis
    assert not any(r.lower().startswith("roll back") for r in report.recommendations)
    assert report.ungrounded_claims == []


async def test_one_bad_server_in_the_pool_is_named(ingestion: str, redis_url: str) -> None:
    backends = [Backend("be_api", per_minute=240, servers=("app1", "app2", "app3", "app4")), BACKENDS[1]]
    feed(ingestion, Traffic(backends=backends, minutes=30, end=END,
                            phases=[Phase("be_api", 15, on_server("app3", failing(1.0, 502, "SH--")))]))
    report = await analyze(ingestion)
    errors = finding(report, "errors")
    assert errors.severity == "critical" and "be_api/app3 answers" in errors.summary
    assert "app3" in report.title and "be_api" in report.title
    assert report.recommendations[0].startswith("Take be_api/app3 out of the pool")
    assert finding(report, "latency").severity == "ok"
    assert report.ungrounded_claims == []


async def test_5xx_burst_of_refused_connections(ingestion: str, redis_url: str) -> None:
    feed(ingestion, scenario(Phase("be_web", 15, failing(0.5, 503, "SC--"))))
    report = await analyze(ingestion)
    errors = finding(report, "errors")
    assert errors.severity == "critical" and "be_web" in errors.summary and "SC--" in errors.summary
    assert "be_web" in report.recommendations[0] and "pool" in report.recommendations[0]


async def test_401_burst(ingestion: str, redis_url: str) -> None:
    feed(ingestion, scenario(Phase("be_api", 15, failing(0.6, 401))))
    report = await analyze(ingestion)
    errors = finding(report, "errors")
    assert errors.severity == "warning" and "401" in errors.summary and "be_api" in errors.summary
    assert report.overall_severity == "warning"
    assert "authentication" in text(report)
    assert finding(report, "latency").severity == "ok"


async def test_traffic_to_zero(ingestion: str, redis_url: str) -> None:
    feed(ingestion, scenario(Phase(None, 20, silent())))
    report = await analyze(ingestion)
    traffic = finding(report, "traffic")
    assert traffic.severity == "critical", traffic.summary
    assert report.overall_severity == "critical"
    assert "load balancer" in report.recommendations[0]


async def test_one_backend_stopping_inside_the_window(ingestion: str, redis_url: str) -> None:
    feed(ingestion, scenario(Phase("be_web", 25, silent())))
    report = await analyze(ingestion)
    traffic = finding(report, "traffic")
    assert traffic.severity == "critical", traffic.summary
    assert "Backend be_web stopped receiving traffic: no requests at all in the last 3 minutes" in traffic.summary
    assert "be_api" not in traffic.summary and report.ungrounded_claims == []
    assert "be_web" in report.recommendations[0]


async def test_sustained_queueing(ingestion: str, redis_url: str) -> None:
    feed(ingestion, scenario(Phase("be_api", 15, queueing(0.4, 300, 30))))
    report = await analyze(ingestion)
    saturation = finding(report, "saturation")
    assert saturation.severity == "warning", saturation.summary
    assert "be_api" in saturation.summary
    assert any("capacity" in r.lower() and "maxconn" in r for r in report.recommendations)
    assert report.ungrounded_claims == []


async def test_scope_to_one_backend(ingestion: str, redis_url: str) -> None:
    feed(ingestion, scenario(Phase("be_api", 15, slower(25))))
    report = await analyze(ingestion, backend="be_web")
    assert report.overall_severity == "ok"
    assert finding(report, "latency").signals["requests"] == 15 * 120


def test_console_script_serves_markdown_over_real_ingestion(ingestion: str, redis_url: str) -> None:
    feed(ingestion, scenario(Phase("be_api", 15, failing(0.6, 401))))
    agent = ServiceProcess("agent-service", {"REDIS_URL": redis_url, "INGESTION_URL": ingestion,
                                             "LLM_ENGINE": "rules", "API_TOKEN": "t0k"})
    agent.start()
    try:
        response = httpx.post(
            agent.url + "/analyze?format=markdown",
            json={"window": "15m", "end": END.isoformat()},
            headers={"Authorization": "Bearer t0k"},
            timeout=30,
        )
    finally:
        agent.stop()
    assert response.status_code == 200
    assert response.text.startswith("# [WARNING]") and "401" in response.text


ONLY_BE_WEB = """---
title: be_web latency
alerts: [HighP99Latency]
backends: [be_web]
---
## First checks
Latency on be_web: check its CDN first.
"""


async def test_a_rules_report_cites_the_runbook_that_applies_and_the_last_fix(
    ingestion: str, redis_url: str, tmp_path: Path
) -> None:
    feed(ingestion, scenario(Phase("be_api", 15, slower(25))))
    shipped = Path(__file__).resolve().parents[2] / "monitoring" / "runbooks"
    books = tmp_path / "runbooks"
    books.mkdir()
    (books / "high-p99-latency.md").write_text((shipped / "high-p99-latency.md").read_text())
    (books / "be-web-latency.md").write_text(ONLY_BE_WEB)  # same alert, another backend: does not apply
    (books / "redis-memory-high.md").write_text((shipped / "redis-memory-high.md").read_text())
    fixed = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)

    async def resolved() -> list[IncidentDoc]:
        return [IncidentDoc(incident_id=12, title="be_api slow", root_cause="api3 swapping", resolution="draining api3",
                            resolved_at=fixed, alerts=["HighP99Latency"], backends=["be_api"]),
                IncidentDoc(incident_id=13, title="be_web slow", root_cause="cdn", resolution="purged the CDN",
                            resolved_at=fixed, alerts=["HighP99Latency"], backends=["be_web"])]

    tool = SearchRunbooksTool(KnowledgeIndex(books), incidents=resolved)
    alert = AlertRef(name="HighP99Latency", runbook_url="monitoring/runbooks/high-p99-latency.md")
    report = await analyze(ingestion, tools=[tool], alerts=[alert], backend="be_api")
    recs = report.recommendations
    assert "Follow runbook HighP99Latency › First checks (runbooks/high-p99-latency.md)." in recs, recs
    assert "Last seen as #12 on 3 Nov: fixed by draining api3." in recs, recs
    assert recs.index("Follow runbook HighP99Latency › First checks (runbooks/high-p99-latency.md).") == 1
    assert not any("be_web" in r or "RedisMemoryHigh" in r or "#13" in r for r in recs), recs
    assert report.ungrounded_claims == []

    other = await analyze(ingestion, tools=[tool], alerts=[AlertRef(name="RedisDown")], backend="be_api")
    assert not any(r.startswith(("Follow runbook", "Last seen")) for r in other.recommendations)

    # POST /analyze (no alert): the runbook of the alert that watches the root problem's mode …
    adhoc = await analyze(ingestion, tools=[tool], backend="be_api")
    assert [r for r in adhoc.recommendations if r.startswith("Follow runbook")] == [
        "Follow runbook HighP99Latency › First checks (runbooks/high-p99-latency.md)."], adhoc.recommendations
    # … and in a runbook dir that names no alert, the runbook whose words match the problem.
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "slow.md").write_text("# Slow backends\n\n## First checks\nA latency regression on a backend: compare its servers.\n")
    (plain / "disk.md").write_text("# Disks\n\n## First checks\nA full disk on a database host.\n")
    words = await analyze(ingestion, tools=[SearchRunbooksTool(KnowledgeIndex(plain))], backend="be_api")
    assert [r for r in words.recommendations if r.startswith("Follow runbook")] == [
        "Follow runbook Slow backends › First checks (plain/slow.md)."], (words.title, words.recommendations)

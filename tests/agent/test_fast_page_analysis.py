"""The first analysis of a fast page (issue 21): the rules now page about a minute after a fault
starts, so the incident's analysis window (from 5 minutes before the alert to now) holds one
minute of the fault. The report must still name the backend, the error or latency and its size,
against a real ingestion-service and redis-server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent_service.ingestion_client import IngestionClient
from agent_service.models import AlertRef, AnalyzeRequest, IncidentReport
from agent_service.orchestrator import Analyzer
from agent_service.rules import RulesEngine
from agent_service.window import alert_baseline_end, incident_window
from tests.agent.helpers import finding, settings, text
from tests.agent.test_rules_real import END, feed, ingestion, scenario  # noqa: F401 - fixture
from tests.agent.traffic_gen import Phase, failing, slower

pytestmark = pytest.mark.real

FAULT_MINUTE = 29  # of 30: the last whole minute before END fails
DETECTED = END - timedelta(seconds=20)  # the alert's startsAt, 40 s into the fault


async def first_analysis(url: str, alert: str) -> IncidentReport:
    """The request IncidentAnalysis makes for an incident detected at DETECTED, analysed at END
    (ALERT_LOOKBACK_S's default 900 s before the alert for the baseline)."""
    request = AnalyzeRequest(window=incident_window(DETECTED, END), end=END, backend="be_api",
                             baseline_end=alert_baseline_end(DETECTED, 900.0), alerts=[AlertRef(name=alert)])
    client = IngestionClient.create(url, timeout_s=10)
    try:
        return await Analyzer(engine=RulesEngine(), ingestion=client, settings=settings()).analyze(request)
    finally:
        await client.aclose()


async def test_one_minute_of_5xx_is_a_critical_finding_naming_the_backend(ingestion: str, redis_url: str) -> None:  # noqa: F811
    feed(ingestion, scenario(Phase("be_api", FAULT_MINUTE, failing(0.2, 500))))
    report = await first_analysis(ingestion, "High5xxRate")
    errors = finding(report, "errors")
    assert errors.severity == "critical", errors.summary
    assert "be_api" in errors.summary and "5xx" in errors.summary
    assert "too few to judge" not in text(report)
    assert report.overall_severity == "critical" and report.ungrounded_claims == []


async def test_one_minute_of_a_tenfold_slowdown_is_a_latency_finding(ingestion: str, redis_url: str) -> None:  # noqa: F811
    feed(ingestion, scenario(Phase("be_api", FAULT_MINUTE, slower(10))))
    report = await first_analysis(ingestion, "HighP99Latency")
    latency = finding(report, "latency")
    assert latency.severity in ("warning", "critical"), latency.summary
    assert "be_api" in latency.summary
    assert "too few to judge" not in text(report)

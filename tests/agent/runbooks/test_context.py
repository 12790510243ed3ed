"""The model engines learn an incident's alerts only inside the analysis_context tool result."""

from __future__ import annotations

from datetime import UTC, datetime

from agent_service.engine import AnalysisContext
from agent_service.llm.engine_core import context_payload
from agent_service.models import AlertRef, Scope, Window


def test_alerts_reach_the_model_as_tool_data_only() -> None:
    at = datetime(2026, 11, 3, tzinfo=UTC)
    window = Window(start=at, end=at, seconds=0)
    alerts = (AlertRef(name="HighP99Latency", runbook_url="monitoring/runbooks/high-p99-latency.md"),)
    payload = context_payload(AnalysisContext(window=window, scope=Scope(backend="be_api"), alerts=alerts), "latency")
    assert payload["alerts"] == [{"name": "HighP99Latency", "runbook_url": "monitoring/runbooks/high-p99-latency.md"}]
    assert "alerts" not in context_payload(AnalysisContext(window=window, scope=Scope()))

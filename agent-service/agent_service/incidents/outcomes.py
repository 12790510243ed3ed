"""What a carried-out analysis leaves on its incident (pure: the caller stores, in one
transaction with the action's removal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent_service.incidents.lifecycle import transition
from agent_service.incidents.models import SEVERITY_ORDER, Incident, IncidentStatus
from agent_service.models import SEVERITY_RANK, IncidentReport

REPORT_SEVERITY = {"ok": "info", "warning": "warning", "critical": "critical"}
MAX_REPORTS = 10


@dataclass(frozen=True)
class AnalysisOutcome:
    key: str  # the pending action's key
    at: datetime
    report: IncidentReport | None
    error: str = ""
    over_limit: str | None = None  # waited for a MAX_ANALYSES slot in vain and ran over the limit
    impact_started_at: datetime | None = None  # first bad minute in the golden signals


def analysis_started(incident: Incident, *, key: str, at: datetime) -> None:
    if incident.status == IncidentStatus.OPEN:
        transition(incident, IncidentStatus.INVESTIGATING, actor="system", at=at)
    incident.add_event("analysis_started", "analysis started", actor="system", at=at,
                       data={"key": key, "scope": incident.scope})


def was_started(incident: Incident, key: str) -> bool:
    return any(e.kind == "analysis_started" and e.data.get("key") == key for e in incident.timeline)


def record_analysis(incident: Incident, outcome: AnalysisOutcome) -> None:
    at, key, report = outcome.at, outcome.key, outcome.report
    if outcome.over_limit:
        incident.add_event("analysis_delayed", outcome.over_limit, actor="system", at=at, data={"key": key})
    if report is None:
        incident.add_event("analysis_failed", f"analysis failed: {outcome.error}", actor="system", at=at,
                           data={"key": key})
        return
    incident.reports = [*incident.reports, report][-MAX_REPORTS:]
    rank = SEVERITY_RANK[report.overall_severity]
    if rank > 0 and rank > SEVERITY_ORDER[incident.severity]:
        incident.severity = REPORT_SEVERITY[report.overall_severity]  # type: ignore[assignment]
    if outcome.impact_started_at and incident.impact_started_at is None:
        incident.impact_started_at = outcome.impact_started_at
    incident.add_event("analysis_finished", f"analysis {report.overall_severity}: {report.title}",
                       actor="system", at=at,
                       data={"key": key, "report_id": report.id, "engine": report.engine.kind})

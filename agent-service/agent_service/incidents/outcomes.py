"""What a carried-out action (an analysis, a notification) leaves on its incident. Pure: the
caller stores it, in one transaction with the action's removal or update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent_service.incidents.lifecycle import transition
from agent_service.incidents.models import SEVERITY_ORDER, Incident, IncidentStatus, PendingAction
from agent_service.incidents.notify_retry import RetryPolicy, duration, schedule
from agent_service.models import SEVERITY_RANK, IncidentReport
from agent_service.remediation.lifecycle import refresh as refresh_proposals

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
    refresh_proposals(incident, report, at)  # the facts changed: older pending proposals expire


@dataclass(frozen=True)
class NotificationOutcome:
    action: PendingAction
    event: str  # what was sent: the action's event, or `report` for an `opened` overtaken by RESOLVED
    ok: bool
    retryable: bool
    detail: str
    at: datetime


def record_notification(incident: Incident, outcome: NotificationOutcome) -> None:
    """Sent, or failed for good (a 4xx, or a retryable failure past NOTIFY_GIVE_UP_S)."""
    action, event, detail, at = outcome.action, outcome.event, outcome.detail, outcome.at
    attempts = action.failures + 1
    data: dict[str, Any] = {"event": event, "idempotency_key": action.key, "attempts": attempts}
    instead = f" (instead of {action.event}: the incident was already RESOLVED)" if event != action.event else ""
    tries = f", after {attempts} attempts" if attempts > 1 else ""
    if outcome.ok:
        incident.add_event("notification_sent", f"{event} notification sent ({detail}{tries}){instead}",
                           actor="system", at=at, data=data)
        return
    if outcome.retryable:
        elapsed = (at - (action.first_failed_at or at)).total_seconds()
        why = f"gave up after {attempts} attempts over {duration(elapsed)} (NOTIFY_GIVE_UP_S): {detail}"
    else:
        why = detail
    incident.add_event("notification_failed", f"{event} notification failed: {why}{instead}", actor="system", at=at,
                       data={**data, "reason": detail[:500], "retryable": outcome.retryable})


def schedule_retry(incident: Incident, *, key: str, event: str, error: str, at: datetime, policy: RetryPolicy) -> None:
    """Keep the notification pending with its next-try time; the timeline says so once per streak
    of failures (at the first), not at every attempt."""
    for i, pending in enumerate(incident.pending):
        if pending.key == key:
            incident.pending[i] = retried = schedule(pending, error=error, now=at, policy=policy)
            break
    else:
        return  # carried out meanwhile by another drainer
    if retried.failures == 1:
        incident.add_event("notification_retrying",
                           f"{event} notification not delivered yet: {error}; retrying with backoff "
                           f"(next try in {duration(policy.delay_s(1))}, giving up after "
                           f"{duration(policy.give_up_s)})", actor="system", at=at,
                           data={"event": event, "idempotency_key": key, "reason": error[:500]})


def record_skipped(incident: Incident, *, action: PendingAction, at: datetime) -> None:
    incident.add_event("notification_skipped",
                       f"{action.event} notification not sent: the incident was RESOLVED meanwhile and the "
                       "resolved notification carries the report", actor="system", at=at,
                       data={"event": action.event, "idempotency_key": action.key})

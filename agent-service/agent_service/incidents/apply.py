"""How one Alertmanager delivery changes an incident (pure: no I/O, the caller stores).

Decisions, also documented in docs/post-mortems/README.md:
- firing, group without an open incident → new incident OPEN; analysis + `opened` notification
  are queued as pending actions (the analysis moves it to INVESTIGATING).
- firing with new alerts in the group → alerts added; `updated` notification.
- firing while MITIGATED (the group flapped or the fix did not hold) → the SAME incident goes back
  to INVESTIGATING, a new analysis runs, `updated` notification.
- firing after RESOLVED → a NEW incident, linked through related_incident_id (RESOLVED is final:
  a human decided it was over, so a later firing is a new event worth its own post-mortem).
- group status resolved (all its alerts resolved) → MITIGATED + `mitigated` notification;
  RESOLVED stays a human decision (or the AUTO_RESOLVE_QUIET_MINUTES quiet period).
- new alerts joining an incident analysed once (a fast page, about a minute of data) → the
  follow-up analysis runs now, before their `updated` notification (incidents/followup.py).
"""

from __future__ import annotations

import re
from datetime import datetime

from agent_service.incidents import followup
from agent_service.incidents.webhook import Alert, WebhookPayload
from agent_service.incidents.lifecycle import transition
from agent_service.incidents.models import (
    SEVERITY_ORDER,
    AlertRecord,
    Incident,
    IncidentSeverity,
    IncidentStatus,
    PendingAction,
)
from agent_service.notifier_client import idempotency_key

ACTOR = "alertmanager"
MAX_ALERTS = 200
MAX_APPLIED = 200
_SCOPE_VALUE = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")
_SEVERITY_WORDS: dict[str, IncidentSeverity] = {
    "critical": "critical", "page": "critical", "high": "critical", "error": "critical", "emergency": "critical",
    "warning": "warning", "warn": "warning", "medium": "warning",
    "info": "info", "low": "info", "none": "info", "informational": "info",
}


def label_severity(labels: dict[str, str]) -> IncidentSeverity:
    return _SEVERITY_WORDS.get(labels.get("severity", "").strip().lower(), "warning")


def max_severity(a: IncidentSeverity, b: IncidentSeverity) -> IncidentSeverity:
    return a if SEVERITY_ORDER[a] >= SEVERITY_ORDER[b] else b


def scope_of(labels: dict[str, str]) -> dict[str, str | None]:
    """backend / frontend / service labels → analysis scope. A value that is not a plain name is
    dropped (labels are untrusted and the scope travels into tool calls)."""
    backend = labels.get("backend") or labels.get("service")
    frontend = labels.get("frontend")
    return {
        "backend": backend if backend and _SCOPE_VALUE.match(backend) else None,
        "frontend": frontend if frontend and _SCOPE_VALUE.match(frontend) else None,
    }


def title_of(payload: WebhookPayload) -> str:
    labels = payload.common_labels or payload.alerts[0].labels
    names = sorted({a.labels.get("alertname", "") for a in payload.alerts} - {""})
    name = labels.get("alertname") or ", ".join(names[:3]) + (" …" if len(names) > 3 else "") or "alert"
    scope = scope_of(labels)
    where = ", ".join(f"{k} {v}" for k, v in scope.items() if v)
    return (f"{name} ({where})" if where else name)[:200]


def _record(alert: Alert) -> AlertRecord:
    return AlertRecord(
        fingerprint=alert.fingerprint,
        status=alert.status,
        labels=alert.labels,
        annotations=alert.annotations,
        starts_at=alert.starts_at,
        ends_at=alert.ended,
        generator_url=alert.generator_url,
    )


def new_incident(
    incident_id: int, payload: WebhookPayload, *, entry_id: str, now: datetime, previous: int | None
) -> Incident:
    labels = payload.common_labels or payload.alerts[0].labels
    incident = Incident(
        id=incident_id,
        title=title_of(payload),
        severity=label_severity(labels),
        source="alertmanager",
        summary=f"Alertmanager group {payload.group_key}",
        group_key=payload.group_key,
        labels=dict(labels),
        scope=scope_of(labels),
        created_at=now,
        updated_at=now,
        detected_at=min(a.starts_at for a in payload.alerts),
        related_incident_id=previous,
        external_url=payload.external_url,
    )
    opened = incident.add_event("incident_opened", "incident opened from Alertmanager", actor=ACTOR, at=now,
                                data={"group_key": payload.group_key, "delivery": entry_id})
    if previous:
        incident.add_event("note", f"this alert group was incident #{previous} before (resolved)", actor="system", at=now)
    _merge_alerts(incident, payload, now=now)
    incident.applied_deliveries.append(entry_id)
    incident.pending = [
        PendingAction(kind="analyze", key=f"analyze:{entry_id}", cause_seq=opened.seq),
        PendingAction(kind="notify", event="opened", key=idempotency_key(incident_id, "opened", entry_id),
                      cause_seq=opened.seq),
    ]
    return incident


def _merge_alerts(incident: Incident, payload: WebhookPayload, *, now: datetime) -> tuple[int, int]:
    """Update the incident's alerts from the delivery; returns (new firing, newly resolved)."""
    known = {a.fingerprint: i for i, a in enumerate(incident.alerts)}
    added = resolved = 0
    for alert in payload.alerts:
        record = _record(alert)
        index = known.get(alert.fingerprint)
        before = incident.alerts[index] if index is not None else None
        if before is None:
            if len(incident.alerts) >= MAX_ALERTS:
                continue
            incident.alerts.append(record)
            known[alert.fingerprint] = len(incident.alerts) - 1
        else:
            incident.alerts[index] = record  # type: ignore[index]
        name = alert.labels.get("alertname", "alert")
        if alert.status == "firing" and (before is None or before.status == "resolved" or before.starts_at != alert.starts_at):
            added += 1
            incident.add_event("alert_received", f"{name} firing since {alert.starts_at:%H:%M:%S}", actor=ACTOR,
                               at=now, data={"fingerprint": alert.fingerprint})
            if alert.starts_at_replaced is not None:
                incident.add_event("note", f"{name}: startsAt {alert.starts_at_replaced!r} is missing, unreadable "
                                           "or outside 2000 … now + 1 day; the receipt time stands in for it",
                                   actor="system", at=now, data={"fingerprint": alert.fingerprint})
            incident.severity = max_severity(incident.severity, label_severity(alert.labels))
            if incident.detected_at is None or alert.starts_at < incident.detected_at:
                incident.detected_at = alert.starts_at
        elif alert.status == "resolved" and (before is None or before.status == "firing"):
            resolved += 1
            ended = f" at {alert.ended:%H:%M:%S}" if alert.ended else ""
            incident.add_event("alert_resolved", f"{name} resolved{ended}", actor=ACTOR, at=now,
                               data={"fingerprint": alert.fingerprint})
    if payload.truncated_alerts:
        incident.add_event("note", f"Alertmanager left {payload.truncated_alerts} alert(s) out of this delivery "
                                   "(max_alerts); counts here are partial", actor=ACTOR, at=now)
    return added, resolved


class NeedsNewIncident(Exception):
    """A firing delivery reached an incident that is already RESOLVED (a race with resolution)."""


def apply_delivery(incident: Incident, payload: WebhookPayload, *, entry_id: str, now: datetime) -> bool:
    """Apply a delivery to an existing incident; False when it was already applied (replay)."""
    if entry_id in incident.applied_deliveries:
        return False
    if incident.status == IncidentStatus.RESOLVED and payload.status == "firing":
        raise NeedsNewIncident(incident.id)
    added, _resolved = _merge_alerts(incident, payload, now=now)
    incident.applied_deliveries = [*incident.applied_deliveries, entry_id][-MAX_APPLIED:]
    if payload.status == "firing" and added:
        if incident.status == IncidentStatus.MITIGATED:
            event = transition(incident, IncidentStatus.INVESTIGATING, actor=ACTOR, at=now,
                               reason="the alert group fired again")
            incident.add_event("reopened", "reopened: the alert group fired again", actor=ACTOR, at=now)
            incident.pending.append(PendingAction(kind="analyze", key=f"analyze:{entry_id}", cause_seq=event.seq))
            incident.pending.append(PendingAction(kind="notify", event="updated", cause_seq=event.seq,
                                                  key=idempotency_key(incident.id, "updated", entry_id)))
        elif incident.status != IncidentStatus.RESOLVED:
            if followup.wants_follow_up(incident):
                followup.start(incident, now=now, why="new alerts joined the group")  # its `updated` carries them
            else:
                incident.pending.append(PendingAction(kind="notify", event="updated",
                                                      cause_seq=incident.timeline[-1].seq,
                                                      key=idempotency_key(incident.id, "updated", entry_id)))
    elif payload.status == "resolved" and incident.status in (IncidentStatus.OPEN, IncidentStatus.INVESTIGATING):
        event = transition(incident, IncidentStatus.MITIGATED, actor=ACTOR, at=now,
                           reason="all alerts of the group resolved")
        incident.pending.append(PendingAction(kind="notify", event="mitigated", cause_seq=event.seq,
                                              key=idempotency_key(incident.id, "mitigated", entry_id)))
    return True

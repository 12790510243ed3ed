"""Status transitions: OPEN → INVESTIGATING → MITIGATED → RESOLVED, validated.

Forward skips are allowed (a false alarm can be RESOLVED straight from OPEN); MITIGATED can go
back to INVESTIGATING (the group fired again, or the fix did not hold); RESOLVED is final: a group
that fires again after resolution opens a NEW incident linked to this one (incidents/apply.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from agent_service.incidents.models import Incident, IncidentStatus, TimelineEvent

S = IncidentStatus
ALLOWED: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    S.OPEN: frozenset({S.INVESTIGATING, S.MITIGATED, S.RESOLVED}),
    S.INVESTIGATING: frozenset({S.MITIGATED, S.RESOLVED}),
    S.MITIGATED: frozenset({S.INVESTIGATING, S.RESOLVED}),
    S.RESOLVED: frozenset(),
}


def now_utc() -> datetime:
    return datetime.now(UTC)


class TransitionError(ValueError):
    pass


def check_transition(current: IncidentStatus, target: IncidentStatus) -> None:
    if current == target:
        raise TransitionError(f"incident is already {current.value}")
    if target not in ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[current])) or "none (final)"
        raise TransitionError(f"cannot go from {current.value} to {target.value}; allowed: {allowed}")


def is_human(actor: str) -> bool:
    return not (actor in ("system", "alertmanager") or actor.startswith("system:"))


def transition(
    incident: Incident, target: IncidentStatus, *, actor: str, at: datetime, reason: str = ""
) -> TimelineEvent:
    """Validate and apply a status change, stamping the lifecycle times; returns the event."""
    check_transition(incident.status, target)
    previous = incident.status
    incident.status = target
    if target == S.MITIGATED:
        incident.mitigated_at = at
    elif target == S.RESOLVED:
        incident.resolved_at = at
        if incident.mitigated_at is None:
            incident.mitigated_at = at
    elif target == S.INVESTIGATING and previous == S.MITIGATED:
        incident.mitigated_at = None
    acknowledge(incident, actor=actor, at=at)
    message = f"{previous.value} → {target.value}" + (f": {reason}" if reason else "")
    return incident.add_event(
        "status_changed", message, actor=actor, at=at, data={"from": previous.value, "to": target.value}
    )


def acknowledge(incident: Incident, *, actor: str, at: datetime) -> None:
    """The first human action on an incident (status change, note, ack) acknowledges it: that
    person has it (`acknowledged_by`)."""
    if is_human(actor) and incident.acknowledged_at is None:
        incident.acknowledged_at = at
        incident.acknowledged_by = actor


def event_to_send(incident: Incident, event: str, key: str) -> str | None:
    """The notification a pending `event` becomes when its turn comes. An `opened` that waited
    behind an analysis while a human RESOLVED the incident would arrive after (or titled) RESOLVED:
    it is dropped when the `resolved` notification (which carries the report) is still to come,
    and sent as a `report` otherwise. None: send nothing."""
    if event != "opened" or incident.status != S.RESOLVED:
        return event
    resolved_pending = any(p.kind == "notify" and p.event == "resolved" and p.key != key for p in incident.pending)
    return None if resolved_pending else "report"

"""Escalation: a critical incident nobody acknowledged is paged again, step by step. Pure: the
store keeps the due time in a sorted set (keys.INCIDENTS_ESCALATION_DUE, written in the same
transaction as the incident) and the alert worker claims a due step with `claim_step` inside the
incident's WATCH/MULTI update — so two workers, or a restart, never page a step twice or lose one.

ESCALATION_TO lists the steps: `;` separates successive steps, `,` the addresses of one step
(`lead@x,sre@x;head@x` = two steps). Step 1 is due ESCALATE_AFTER_S after the incident opened,
each next step ESCALATE_AFTER_S after the previous page. A step is a pending `notify` action
(event `opened`, which the notifier never holds back) with the step's addresses as extra `to`
recipients and a deterministic idempotency key, so the page itself is the outbox's usual promise.

What stops it: an acknowledgement, RESOLVED, or MITIGATED (nothing fires; a re-fire resumes
it), or a severity below critical. A step claimed but not yet sent when one of those happens is
skipped (`stale`). Quiet hours and schedules are not here (see docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agent_service.incidents.models import Incident, IncidentStatus, PendingAction
from agent_service.notifier_client import idempotency_key

ACTOR = "system:escalation"


@dataclass(frozen=True)
class EscalationPolicy:
    after_s: float = 900.0
    steps: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def parse(cls, escalation_to: str | None, *, after_s: float) -> EscalationPolicy:
        steps = []
        for part in (escalation_to or "").split(";"):
            addresses = tuple(a.strip() for a in part.split(",") if a.strip())
            if addresses:
                steps.append(addresses)
        return cls(after_s=after_s, steps=tuple(steps))

    @property
    def enabled(self) -> bool:
        return bool(self.steps) and self.after_s > 0


def wants_escalation(incident: Incident) -> bool:
    return (incident.severity == "critical" and incident.acknowledged_at is None
            and incident.status in (IncidentStatus.OPEN, IncidentStatus.INVESTIGATING))


def due_at(incident: Incident, policy: EscalationPolicy) -> datetime | None:
    """When the incident's next escalation step is due; None: none is (any more, or now)."""
    if not policy.enabled or not wants_escalation(incident) or incident.escalation_step >= len(policy.steps):
        return None
    return (incident.escalated_at or incident.created_at) + timedelta(seconds=policy.after_s)


def claim_step(incident: Incident, *, policy: EscalationPolicy, now: datetime) -> int | None:
    """Page the next step when it is due: step count, timeline and the notify action, all in the
    caller's one transaction. Returns the step number (1, 2, ...) or None when nothing is due."""
    due = due_at(incident, policy)
    if due is None or due > now:
        return None
    step = incident.escalation_step + 1
    to = policy.steps[step - 1]
    waited = (now - incident.created_at).total_seconds()
    incident.escalation_step, incident.escalated_at = step, now
    event = incident.add_event(
        "escalated", f"escalation step {step}/{len(policy.steps)}: not acknowledged after {waited / 60:.0f} min, "
                     f"paging {', '.join(to)}", actor=ACTOR, at=now, data={"step": step, "to": list(to)})
    incident.pending.append(PendingAction(
        kind="notify", event="opened", cause_seq=event.seq, to=",".join(to), escalation_step=step,
        key=idempotency_key(incident.id, "escalation", f"step{step}")))
    return step


def stale(incident: Incident, action: PendingAction) -> bool:
    """A claimed escalation page overtaken by an ack or resolution before it went out."""
    return action.escalation_step is not None and not wants_escalation(incident)


def record_stale(incident: Incident, *, action: PendingAction, at: datetime) -> None:
    who = f"acknowledged by {incident.acknowledged_by}" if incident.acknowledged_at else incident.status.value
    incident.add_event("notification_skipped", f"escalation step {action.escalation_step} not sent: {who} meanwhile",
                       actor="system", at=at, data={"event": "escalation", "idempotency_key": action.key})

"""The follow-up analysis (issue 21). A fast page is analysed with about a minute of the fault's
data; FOLLOW_UP_ANALYSIS_S after that first report, while the incident is still open and nobody
ran another analysis, it is analysed once more and the new report goes out as one `updated`
notification (the notifier's coalescing applies as to any update). An alert joining the group
before then runs the follow-up at once instead (apply.py). Pure: the store keeps the due time in a
sorted set (keys.INCIDENTS_FOLLOW_UP_DUE, written in the incident's transaction) and the alert
worker claims it with `claim` inside the incident's WATCH/MULTI update, so it runs once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agent_service.incidents.models import Incident, IncidentStatus, PendingAction
from agent_service.notifier_client import idempotency_key

ACTOR = "system:follow-up"


@dataclass(frozen=True)
class FollowUpPolicy:
    after_s: float = 300.0  # 0: no scheduled follow-up

    @property
    def enabled(self) -> bool:
        return self.after_s > 0


def wants_follow_up(incident: Incident) -> bool:
    """Open, analysed exactly once, never followed up, nothing pending (an analysis running)."""
    return (incident.followed_up_at is None and len(incident.reports) == 1 and not incident.pending
            and incident.status in (IncidentStatus.OPEN, IncidentStatus.INVESTIGATING))


def due_at(incident: Incident, policy: FollowUpPolicy) -> datetime | None:
    if not policy.enabled or not wants_follow_up(incident):
        return None
    return incident.reports[0].created_at + timedelta(seconds=policy.after_s)


def start(incident: Incident, *, now: datetime, why: str) -> None:
    """The analysis and its `updated` notification, queued in the caller's transaction."""
    incident.followed_up_at = now
    event = incident.add_event("note", f"follow-up analysis: {why}", actor=ACTOR, at=now)
    incident.pending.append(PendingAction(kind="analyze", key=f"analyze:follow-up:{incident.id}", cause_seq=event.seq))
    incident.pending.append(PendingAction(kind="notify", event="updated", cause_seq=event.seq,
                                          key=idempotency_key(incident.id, "updated", "follow-up")))


def claim(incident: Incident, *, policy: FollowUpPolicy, now: datetime) -> bool:
    """Start the follow-up when it is due; False when it is not (any more, or yet)."""
    due = due_at(incident, policy)
    if due is None or due > now:
        return False
    start(incident, now=now, why=f"still open {policy.after_s / 60:g} min after the first analysis: "
                                 "analysed again with the data that came in since")
    return True

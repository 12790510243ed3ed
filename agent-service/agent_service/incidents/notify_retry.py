"""When an incident's notifications are tried again after the notifier failed (pure: no I/O).

A retryable failure (notifier unreachable, timeout, 5xx, 429) keeps the `notify` action pending
with a next-try time; the alert worker resumes it when due (exponential backoff, capped) and gives
up only after `give_up_s` since the first failure. The idempotency key makes every retry safe.

Order: an incident's notifications go out in the order they were decided — a later one (say
`mitigated`) waits behind an `opened` that is backing off, so nobody gets "mitigated" before
"opened". Analyses do not wait behind a backing-off notification. The one merge is the existing
rule of lifecycle.event_to_send: an `opened` overtaken by RESOLVED while `resolved` is still to
come is dropped at once (the `resolved` email carries the report).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall_common.backoff import backoff_delay

from agent_service.incidents.lifecycle import event_to_send
from agent_service.incidents.models import Incident, PendingAction


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 5.0
    max_s: float = 300.0
    give_up_s: float = 6 * 3600.0  # 0: never retry (a failure is final at once)

    def delay_s(self, failures: int) -> float:
        """Wait after the `failures`-th failed attempt in a row (1, 2, ...)."""
        return backoff_delay(failures, base_s=self.base_s, max_s=self.max_s)

    def gives_up(self, first_failed_at: datetime, now: datetime) -> bool:
        return (now - first_failed_at).total_seconds() >= self.give_up_s


def is_due(action: PendingAction, now: datetime) -> bool:
    return action.next_try_at is None or action.next_try_at <= now


def next_action(incident: Incident, now: datetime) -> PendingAction | None:
    """The pending action to carry out now, or None (nothing, or only notifications backing off)."""
    waiting = False  # an earlier notification is backing off: later notifications wait behind it
    for action in incident.pending:
        if action.kind == "analyze":
            return action
        if waiting:
            continue
        assert action.event is not None
        if is_due(action, now) or event_to_send(incident, action.event, action.key) is None:
            return action
        waiting = True
    return None


def retry_at(incident: Incident) -> datetime | None:
    """When the incident's first backing-off notification is due (None: none is backing off)."""
    for action in incident.pending:
        if action.kind == "notify":
            return action.next_try_at
    return None


def schedule(action: PendingAction, *, error: str, now: datetime, policy: RetryPolicy) -> PendingAction:
    """The action after one more failed attempt, with its next-try time."""
    failures = action.failures + 1
    return action.model_copy(update={
        "failures": failures,
        "first_failed_at": action.first_failed_at or now,
        "next_try_at": now + timedelta(seconds=policy.delay_s(failures)),
        "last_error": error[:500],
    })


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    if seconds >= 60:
        return f"{seconds / 60:g}min"
    return f"{seconds:g}s"

"""Carrying out an incident's pending `notify` action: the call to notifier-service and what it
leaves on the incident — sent, skipped (overtaken by RESOLVED), kept to be retried with backoff
(notify_retry.py) or failed for good — each stored together with the action's removal or update."""

from __future__ import annotations

import logging
from typing import Any

from agent_service.incidents.lifecycle import event_to_send, now_utc
from agent_service.incidents.metrics import IncidentMetrics
from agent_service.incidents.models import Incident, NotifyEvent, PendingAction
from agent_service.incidents.notify_retry import RetryPolicy, duration, schedule
from agent_service.incidents.render import incident_markdown
from agent_service.incidents.store import IncidentStore
from agent_service.notifier_client import NotifierClient, NotifyRequest

log = logging.getLogger(__name__)


class Notifications:
    def __init__(self, store: IncidentStore, notifier: NotifierClient | None, metrics: IncidentMetrics, *,
                 public_url: str, policy: RetryPolicy) -> None:
        self.store = store
        self.notifier = notifier
        self.metrics = metrics
        self.public_url = public_url
        self.policy = policy

    async def send_notification(self, incident: Incident, action: PendingAction) -> Incident:
        assert action.event is not None
        event = event_to_send(incident, action.event, action.key)
        if event is None:
            return await self._skip(incident, action)
        request = self.request(incident, event, action.key)  # type: ignore[arg-type]
        retryable = False
        if self.notifier is None:
            ok, detail = False, "NOTIFIER_URL is not configured"
        else:
            result = await self.notifier.notify(request)
            ok, retryable = result.ok, result.retryable
            detail = (f"notification {result.notification_id}" if result.notification_id else "notification queued") \
                if ok else (result.error or "failed")
        policy, now = self.policy, now_utc()
        if retryable and not policy.gives_up(action.first_failed_at or now, now):
            self.metrics.notification(event, False, retrying=True)
            return await self._retry_later(incident.id, action, event, detail)
        attempts = action.failures + 1

        def record(inc: Incident) -> None:
            at = now_utc()
            data: dict[str, Any] = {"event": event, "idempotency_key": action.key, "attempts": attempts}
            instead = f" (instead of {action.event}: the incident was already RESOLVED)" if event != action.event else ""
            tries = f", after {attempts} attempts" if attempts > 1 else ""
            if ok:
                inc.add_event("notification_sent", f"{event} notification sent ({detail}{tries}){instead}",
                              actor="system", at=at, data=data)
                return
            if retryable:
                elapsed = (at - (action.first_failed_at or at)).total_seconds()
                detail_ = f"gave up after {attempts} attempts over {duration(elapsed)} (NOTIFY_GIVE_UP_S): {detail}"
            else:
                detail_ = detail
            inc.add_event("notification_failed", f"{event} notification failed: {detail_}{instead}",
                          actor="system", at=at, data={**data, "reason": detail[:500], "retryable": retryable})

        self.metrics.notification(event, ok)
        return await self.store.finish(incident.id, action.key, record)

    async def _retry_later(self, incident_id: int, action: PendingAction, event: str, error: str) -> Incident:
        """Keep the notification pending with its next-try time; the timeline says so once per
        streak of failures (at the first), not at every attempt."""
        policy = self.policy

        def again(inc: Incident) -> None:
            at = now_utc()
            for i, pending in enumerate(inc.pending):
                if pending.key == action.key:
                    inc.pending[i] = retried = schedule(pending, error=error, now=at, policy=policy)
                    break
            else:
                return  # carried out meanwhile by another drainer
            if retried.failures == 1:
                inc.add_event("notification_retrying",
                              f"{event} notification not delivered yet: {error}; retrying with backoff "
                              f"(next try in {duration(policy.delay_s(1))}, giving up after "
                              f"{duration(policy.give_up_s)})", actor="system", at=at,
                              data={"event": event, "idempotency_key": action.key, "reason": error[:500]})

        log.warning("incident %s: %s notification will be retried: %s", incident_id, event, error)
        incident, _ = await self.store.update(incident_id, again)
        return incident

    async def _skip(self, incident: Incident, action: PendingAction) -> Incident:
        def record(inc: Incident) -> None:
            inc.add_event("notification_skipped",
                          f"{action.event} notification not sent: the incident was RESOLVED meanwhile and the "
                          "resolved notification carries the report", actor="system", at=now_utc(),
                          data={"event": action.event, "idempotency_key": action.key})

        self.metrics.notification(action.event or "", None)
        return await self.store.finish(incident.id, action.key, record)

    def request(self, incident: Incident, event: NotifyEvent, key: str) -> NotifyRequest:
        report = incident.reports[-1] if incident.reports else None
        summary = f"{incident.status.value}: {report.diagnosis}" if report else f"{incident.status.value}: {incident.summary}"
        return NotifyRequest(
            idempotency_key=key, incident_id=incident.id, event=event, severity=incident.severity,
            title=incident.title[:300], summary=summary[:2000],
            report_markdown=incident_markdown(incident),
            url=f"{self.public_url.rstrip('/')}/incidents/{incident.id}",
        )

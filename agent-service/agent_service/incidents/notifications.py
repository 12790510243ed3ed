"""Carrying out an incident's pending `notify` action: the call to notifier-service and what it
leaves on the incident — sent, skipped (overtaken by RESOLVED), kept to be retried with backoff
(notify_retry.py) or failed for good — each stored together with the action's removal or update."""

from __future__ import annotations

import logging
from functools import partial

from agent_service.incidents import escalation
from agent_service.incidents.lifecycle import event_to_send, now_utc
from agent_service.incidents.metrics import IncidentMetrics
from agent_service.incidents.models import Incident, NotifyEvent, PendingAction
from agent_service.incidents.notify_retry import RetryPolicy
from agent_service.incidents.outcomes import NotificationOutcome, record_notification, record_skipped, schedule_retry
from agent_service.incidents.render import incident_markdown
from agent_service.incidents.store import IncidentStore
from agent_service.notifier_client import NotifierClient, NotifyRequest
from agent_service.remediation.models import summary

log = logging.getLogger(__name__)
MAX_LINKS = 20
MAX_LINK_CHARS = 2000


def alert_links(incident: Incident) -> list[str]:
    """The alerts' generatorURL and the sender's externalURL as Alertmanager sent them, for the
    notifier's link allowlist: http(s) only and bounded (a bad one is dropped, never the page)."""
    candidates = [a.generator_url for a in incident.alerts] + [incident.external_url]
    links: list[str] = []
    for url in candidates:
        url = url.strip()
        if url.lower().startswith(("http://", "https://")) and len(url) <= MAX_LINK_CHARS and url not in links:
            links.append(url)
    return links[:MAX_LINKS]


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
        if escalation.stale(incident, action):
            self.metrics.notification("opened", None)
            return await self.store.finish(incident.id, action.key,
                                           partial(escalation.record_stale, action=action, at=now_utc()))
        event = event_to_send(incident, action.event, action.key)
        if event is None:
            return await self._skip(incident, action)
        request = self.request(incident, event, action.key, action=action)  # type: ignore[arg-type]
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
        outcome = NotificationOutcome(action=action, event=event, ok=ok, retryable=retryable, detail=detail,
                                      at=now_utc())
        self.metrics.notification(event, ok)
        return await self.store.finish(incident.id, action.key, partial(record_notification, outcome=outcome))

    async def _retry_later(self, incident_id: int, action: PendingAction, event: str, error: str) -> Incident:
        """Keep the notification pending with its next-try time (outcomes.schedule_retry)."""
        log.warning("incident %s: %s notification will be retried: %s", incident_id, event, error)
        incident, _ = await self.store.update(incident_id, partial(
            schedule_retry, key=action.key, event=event, error=error, at=now_utc(), policy=self.policy))
        return incident

    async def _skip(self, incident: Incident, action: PendingAction) -> Incident:
        self.metrics.notification(action.event or "", None)
        return await self.store.finish(incident.id, action.key, partial(record_skipped, action=action, at=now_utc()))

    def request(self, incident: Incident, event: NotifyEvent, key: str, *,
                action: PendingAction | None = None) -> NotifyRequest:
        report = incident.reports[-1] if incident.reports else None
        summary = f"{incident.status.value}: {report.diagnosis}" if report else f"{incident.status.value}: {incident.summary}"
        title = incident.title
        step = action.escalation_step if action is not None else None
        if step is not None:
            title = f"[escalation {step}] not acknowledged: {title}"
            summary = f"Nobody acknowledged this critical incident yet (escalation step {step}). {summary}"
        return NotifyRequest(
            idempotency_key=key, incident_id=incident.id, event=event, severity=incident.severity,
            title=title[:300], summary=summary[:2000],
            report_markdown=incident_markdown(incident),
            url=f"{self.public_url.rstrip('/')}/incidents/{incident.id}",
            links=alert_links(incident),
            to=action.to if action is not None else None,
            acknowledged_by=incident.acknowledged_by,
            acknowledged_at=incident.acknowledged_at,
            proposals=pending_proposals(incident),
        )


MAX_PROPOSALS = 5  # the notifier's limit


def pending_proposals(incident: Incident) -> list[dict[str, str]] | None:
    """What the chats offer to approve or reject (None: nothing pending, the field is left out)."""
    pending = [r for r in incident.proposals if r.state == "pending"][:MAX_PROPOSALS]
    return [{"id": r.id, "summary": summary(r.proposal)[:300], "risk": r.proposal.risk.level}
            for r in pending] or None

"""The delivery lanes (email and every configured chat/webhook channel) and the fan-out to them.

A notification is one record in the email lane's queue (its id is the notification's id) and one
copy, under the same id, in each chat/webhook lane it is routed to. Each lane has its own queue,
worker, attempts, backoff and coalescing (the same Lua scripts under the lane's prefix), so a
channel that is down delays only itself. Idempotency per lane is keyed by the notification id:
a repeated POST /notify fans out again, which creates the copies a crash may have left out and
never a second one.

Routing by severity: a lane takes a notification at or above its `<CHANNEL>_MIN_SEVERITY`, and
every later notification of an incident it took once (its resolution reaches whoever got the page).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from notifier_service.channels.slack import SlackApiSender, SlackWebhookSender
from notifier_service.channels.teams import TeamsSender
from notifier_service.channels.telegram import TelegramSender
from notifier_service.channels.webhook import WebhookSender
from notifier_service.compose import EmailComposer
from notifier_service.delivery import Sender
from notifier_service.keys import lane_prefix
from notifier_service.models import ChannelState, Notification
from notifier_service.settings import SEVERITY_RANK, Settings
from notifier_service.smtp import EmailSender
from notifier_service.store import EnqueueResult, NotificationStore
from notifier_service.worker import Lane

EMAIL = "email"


def chat_uncertain(channel: str) -> str:
    return (f"delivery interrupted after the request was sent: {channel} may have accepted it, so it is not "
            "re-sent automatically (POST /notifications/{id}/retry re-sends it)")


def build_lanes(settings: Settings, redis: aioredis.Redis, composer: EmailComposer) -> list[Lane]:
    """The email lane first, then one lane per configured channel."""
    s = settings
    email_store = NotificationStore(redis, prefix=s.redis_prefix)
    lanes = [Lane(EMAIL, email_store, lambda: EmailSender(s, composer), s.lease_seconds, s.worker_concurrency)]

    def add(name: str, make: Callable[[NotificationStore], Sender]) -> None:
        store = NotificationStore(redis, prefix=lane_prefix(s.redis_prefix, name), uncertain_error=chat_uncertain(name))
        lanes.append(Lane(name, store, lambda: make(store), s.channel_lease_seconds, s.worker_concurrency))

    timeout = s.channel_timeout_seconds
    if s.slack_webhook_url:
        url = s.slack_webhook_url
        add("slack", lambda store: SlackWebhookSender(url=url, timeout=timeout))
    elif s.slack_bot_token and s.slack_channel:
        token, channel = s.slack_bot_token, s.slack_channel
        add("slack", lambda store: SlackApiSender(api_url=s.slack_api_url, token=token, channel=channel, store=store,
                                                  timeout=timeout, retention=s.retention_seconds))
    if s.teams_webhook_url:
        teams = s.teams_webhook_url
        add("teams", lambda store: TeamsSender(url=teams, timeout=timeout))
    if s.telegram_bot_token and s.telegram_chat_id:
        bot, chat = s.telegram_bot_token, s.telegram_chat_id
        add("telegram", lambda store: TelegramSender(api_url=s.telegram_api_url, token=bot, chat_id=chat, store=store,
                                                     timeout=timeout, retention=s.retention_seconds))
    for i, hook in enumerate(s.webhook_urls, 1):
        secret = s.webhook_secret or ""
        add(f"webhook-{i}", lambda store, hook=hook, name=f"webhook-{i}": WebhookSender(
            name=name, url=hook, secret=secret, timeout=timeout))
    return lanes


@dataclass
class Fanout:
    """Enqueue into, read from and retry across every lane (the routes' one collaborator)."""

    settings: Settings
    lanes: list[Lane]
    email: NotificationStore = field(init=False)

    def __post_init__(self) -> None:
        self.email = self.lanes[0].store

    async def _routed(self, lane: Lane, severity: str, incident_id: str) -> bool:
        if SEVERITY_RANK[severity] >= SEVERITY_RANK[self.settings.min_severity(lane.name)]:
            return True
        return bool(await lane.store.redis.exists(lane.store.keys.routed(incident_id)))

    async def enqueue(self, payload: dict[str, Any], *, idempotency_key: str | None, root_message_id: str,
                      message_id_for: Any) -> EnqueueResult:
        s = self.settings
        severity, incident_id = str(payload["severity"]), str(payload["incident_id"])
        email_lane, *chat_lanes = self.lanes
        to_email = await self._routed(email_lane, severity, incident_id)
        result = await self.email.enqueue(
            payload, idempotency_key=idempotency_key, root_message_id=root_message_id, message_id_for=message_id_for,
            coalesce_interval=s.coalesce_interval_seconds, retention=s.retention_seconds, deliver=to_email,
        )
        if result.created and to_email:
            await self._remember(email_lane, incident_id)
        if not result.created:  # a repeat: the lanes get what a crash may have left out, under the first id
            first = await self.email.get(result.id)
            if first is None:
                return result
            payload = {**payload, "severity": first.severity, "incident_id": first.incident_id}
            severity, incident_id = first.severity, first.incident_id
        chat_payload = {**payload, "to": []}
        for lane in chat_lanes:
            if not await self._routed(lane, severity, incident_id):
                continue
            await lane.store.enqueue(
                chat_payload, idempotency_key=f"n:{result.id}", root_message_id="", message_id_for=lambda _: "",
                coalesce_interval=s.coalesce_interval_seconds, retention=s.retention_seconds, ident=result.id,
            )
            await self._remember(lane, incident_id)
        return result

    async def _remember(self, lane: Lane, incident_id: str) -> None:
        await lane.store.redis.set(lane.store.keys.routed(incident_id), "1", ex=self.settings.retention_seconds)

    async def get(self, ident: str) -> Notification | None:
        view = await self.email.get(ident)
        if view is None:
            return None
        channels: dict[str, ChannelState] = {}
        if view.status != "skipped":
            channels[EMAIL] = _state(view)
        for lane in self.lanes[1:]:
            copy = await lane.store.get(ident)
            if copy is not None and copy.status != "skipped":
                channels[lane.name] = _state(copy)
        return view.model_copy(update={"channels": channels})

    async def retry(self, ident: str) -> list[str]:
        """Queue every failed lane of a notification again with fresh attempts; the lanes re-sent."""
        retried = []
        for lane in self.lanes:
            view = await lane.store.get(ident)
            if view is None or view.status != "failed" or view.coalesced_into:
                continue
            previous = await lane.store.transition(
                ident, "queued", required="failed", fields={"attempts": "0", "last_error": view.last_error or ""},
                due=time.time(),
            )
            if previous is not None:
                retried.append(lane.name)
        return retried


def _state(view: Notification) -> ChannelState:
    return ChannelState(status=view.status, attempts=view.attempts, last_error=view.last_error,  # type: ignore[arg-type]
                        sent_at=view.sent_at)


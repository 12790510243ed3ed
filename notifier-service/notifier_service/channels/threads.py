"""Per-incident threads in a chat lane: the first message's id (Slack `ts`, Telegram
`message_id`) is kept in Redis beside the lane's queue, `incident:{n}:thread`; later messages
reply to it. An update racing its incident's first message waits for it, or it would start a
second thread: nothing has been sent, so that is an ordinary transient failure, retried soon."""

from __future__ import annotations

from notifier_service.delivery import DeliveryError
from notifier_service.store import NotificationStore


class Threads:
    def __init__(self, store: NotificationStore, *, channel: str, retention: int) -> None:
        self.store = store
        self.channel = channel
        self.retention = retention

    def _key(self, incident_id: str) -> str:
        return self.store.keys.named(f"incident:{incident_id}:thread")

    async def _text(self, key: str) -> str | None:
        raw = await self.store.redis.get(key)
        return raw.decode() if isinstance(raw, bytes) else raw

    async def parent(self, incident_id: str, event: str) -> str | None:
        """The id to reply to; raises a transient DeliveryError while the first message is on its way."""
        thread = await self._text(self._key(incident_id))
        if thread or event == "opened":
            return thread
        root = await self._text(self.store.keys.named(f"incident:{incident_id}:root"))
        first = await self.store.get(root) if root else None
        if first is not None and first.status in ("queued", "sending"):
            raise DeliveryError(f"{self.channel}: waiting for the incident's first message to start its thread",
                                permanent=False, retry_after=1.0)
        return await self._text(self._key(incident_id))  # the first message may have just been sent

    async def started(self, incident_id: str, message_id: str) -> None:
        await self.store.redis.set(self._key(incident_id), message_id, nx=True, ex=self.retention)

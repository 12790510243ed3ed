"""The durable notification queue in Redis (key layout in keys.py).

Custom on purpose, where a job-queue library (arq, rq, Celery) would not fit: delivery is
*delayed* (retries with backoff, held update emails), a claimed notification carries a *lease*
so that a dead worker's items go back to the queue while a live one's do not (several service
instances may share the queue), and an update arriving while another for the same incident is
still held is *coalesced* into it — the same atomic step that checks the idempotency key. No
library offers the three together in one atomic script per state change.

Why a sorted set and not a list (BLMOVE) or a stream: neither has delayed delivery; a due-time
sorted set is the queue, and claiming moves an id atomically (Lua) into `processing`, scored by
its lease expiry, which is what BLMOVE's processing list gives — plus a way to tell a dead
worker's items from a live one's. Every state change is one script, so a crash between two
commands cannot leave an id in no structure at all.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from oncall_common.lua import lua_script
from notifier_service.keys import DEFAULT_PREFIX, TRIMMED_INDEXES, QueueKeys
from notifier_service.models import Notification, Status

UNCERTAIN_ERROR = (
    "delivery interrupted after the message data was sent: the SMTP server may have accepted it, "
    "so it is not re-sent automatically (POST /notifications/{id}/retry re-sends it)"
)


def _lua(name: str) -> str:
    return lua_script("notifier_service", name)


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class EnqueueResult:
    id: str
    created: bool
    coalesced_into: str | None


@dataclass(frozen=True)
class Stored:
    """A claimed notification, as the worker needs it to build and send the email."""

    id: str
    fields: dict[str, str]

    @property
    def attempts(self) -> int:
        return int(self.fields.get("attempts") or 0)

    @property
    def to(self) -> list[str]:
        return _list(self.fields.get("to"))


class NotificationStore:
    def __init__(self, redis: aioredis.Redis, *, prefix: str = DEFAULT_PREFIX, uncertain_error: str = UNCERTAIN_ERROR) -> None:
        self.redis = redis
        self.prefix = prefix
        self.uncertain_error = uncertain_error
        self.keys = QueueKeys(prefix)
        self._enqueue = redis.register_script(_lua("enqueue.lua"))
        self._claim = redis.register_script(_lua("claim.lua"))
        self._transition = redis.register_script(_lua("transition.lua"))
        self._recover = redis.register_script(_lua("recover.lua"))

    async def enqueue(
        self,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None,
        root_message_id: str,
        message_id_for: Any,
        coalesce_interval: float,
        retention: int,
        now: float | None = None,
        ident: str | None = None,
        deliver: bool = True,
    ) -> EnqueueResult:
        """`ident`: the id to create (a lane's copy of a notification has the notification's id);
        `deliver=False` keeps the record as `skipped` (severity routing) without queueing it."""
        new_id = ident or uuid.uuid4().hex
        raw = await self._enqueue(
            args=[
                self.prefix, new_id, idempotency_key or "", repr(now or time.time()),
                repr(coalesce_interval), retention, root_message_id, message_id_for(new_id),
                json.dumps(payload), "1" if deliver else "0",
            ]
        )
        ident, created, into = (_s(x) for x in raw)
        return EnqueueResult(id=ident, created=created == "1", coalesced_into=into or None)

    async def claim(self, *, n: int, lease_seconds: float, now: float | None = None) -> tuple[str, list[Stored]]:
        now = now or time.time()
        token = uuid.uuid4().hex
        raw = await self._claim(args=[self.prefix, repr(now), repr(now + lease_seconds), n, token])
        items = []
        for ident, flat in raw:
            pairs = [_s(x) for x in flat]
            items.append(Stored(_s(ident), dict(zip(pairs[0::2], pairs[1::2]))))
        return token, items

    async def mark_data_phase(self, ident: str) -> None:
        """Recorded just before DATA: from here on a crash leaves delivery uncertain."""
        await self.redis.hset(self.keys.notification(ident), "phase", "data")

    async def transition(
        self,
        ident: str,
        new: Status,
        *,
        token: str = "",
        required: str = "",
        fields: dict[str, str] | None = None,
        due: float = 0.0,
        expire: int | None = None,
    ) -> str | None:
        previous = await self._transition(
            args=[
                self.prefix, ident, token, required, new, json.dumps(fields or {}),
                repr(due), "" if expire is None else str(expire),
            ]
        )
        return _s(previous) if previous else None

    async def recover(self, *, resend_uncertain: bool, retention: int, now: float | None = None) -> list[tuple[str, str]]:
        raw = await self._recover(
            args=[self.prefix, repr(now or time.time()), "1" if resend_uncertain else "0", self.uncertain_error, retention]
        )
        items = [_s(x) for x in raw]
        return list(zip(items[0::2], items[1::2]))

    async def depth(self) -> int:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(self.keys.due)
            pipe.zcard(self.keys.processing)
            due, processing = await pipe.execute()
        return int(due) + int(processing)

    async def next_due(self) -> float | None:
        first = await self.redis.zrange(self.keys.due, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def wait_for_work(self, timeout: float) -> None:
        """Block until something is enqueued (or `timeout`); the wake list is only a hint."""
        if timeout <= 0:
            return
        await self.redis.blpop([self.keys.wake], timeout=max(timeout, 0.01))

    async def get(self, ident: str) -> Notification | None:
        fields = await self._fields(ident)
        if fields is None:
            return None
        carrier = None
        if fields.get("status") == "coalesced":
            carrier = await self._fields(fields.get("coalesced_into", ""))
        return to_view(fields, carrier)

    async def list(self, *, status: Status | None, limit: int) -> list[Notification]:
        index = self.keys.index(status)
        ids = [_s(x) for x in await self.redis.zrevrange(index, 0, limit - 1)]
        rows = await self._many(ids)
        wanted = sorted({r["coalesced_into"] for r in rows if r and r.get("status") == "coalesced"})
        carriers = dict(zip(wanted, await self._many(wanted), strict=True))
        views: list[Notification] = []
        for ident, fields in zip(ids, rows, strict=True):
            if fields is None:
                await self.redis.zrem(index, ident)  # expired after its retention
                continue
            view = to_view(fields, carriers.get(fields.get("coalesced_into", "")))
            if status is None or view.status == status:
                views.append(view)
        return views

    async def _many(self, ids: list[str]) -> list[dict[str, str] | None]:
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for ident in ids:
                pipe.hgetall(self.keys.notification(ident))
            raw = await pipe.execute()
        return [{_s(k): _s(v) for k, v in row.items()} or None for row in raw]

    async def trim_indexes(self, *, older_than: float) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in TRIMMED_INDEXES:
                pipe.zremrangebyscore(self.keys.named(name), "-inf", older_than)
            await pipe.execute()

    async def _fields(self, ident: str) -> dict[str, str] | None:
        if not ident:
            return None
        row = await self.redis.hgetall(self.keys.notification(ident))
        return {_s(k): _s(v) for k, v in row.items()} or None


def _list(value: str | None) -> list[str]:
    """A stored JSON list; Lua's cjson writes an empty one as `{}`."""
    items = json.loads(value or "[]")
    return list(items) if isinstance(items, list) else []


def _float(value: str | None) -> float | None:
    return float(value) if value else None


def to_view(fields: dict[str, str], carrier: dict[str, str] | None = None) -> Notification:
    """A stored hash as the API shows it; a coalesced one takes its delivery state from its carrier."""
    state = carrier if carrier is not None else fields
    status = state.get("status", "queued")
    if status == "coalesced":  # carrier expired: the email went out long ago or the data is gone
        status = "sent"
    return Notification(
        id=fields["id"],
        status=status,  # type: ignore[arg-type]
        attempts=int(state.get("attempts") or 0),
        last_error=state.get("last_error") or None,
        sent_at=_float(state.get("sent_at")),
        created_at=float(fields["created_at"]),
        incident_id=fields["incident_id"],
        event=fields["event"],  # type: ignore[arg-type]
        severity=fields["severity"],  # type: ignore[arg-type]
        title=fields["title"],
        to=_list(fields.get("to")),
        message_id=state.get("message_id", ""),
        next_attempt_at=_float(state.get("next_attempt_at")) if status == "queued" else None,
        coalesced_into=fields.get("coalesced_into") or None,
        coalesced_count=int(fields.get("coalesced_count") or 0),
        acknowledged_by=fields.get("acknowledged_by") or None,
        acknowledged_at=fields.get("acknowledged_at") or None,
    )

"""Change events in Redis: a hash (id → event) and a time-ordered zset (id → at), written in one
script so a retried POST never duplicates; kept EVENTS_RETENTION_S and at most EVENTS_MAX events
(the oldest go first), both keys expiring when nothing is written for the retention period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from pydantic import ValidationError

from oncall_common.lua import lua_script
from agent_service.events.models import ChangeEvent
from agent_service.keys import EVENTS_BY_ID, EVENTS_BY_TIME

_RECORD = lua_script("agent_service", "events_record.lua", strip_comments=True)
SCAN_CAP = 5000  # ids read per query at most (filters apply after the time range)


class TooOld(ValueError):
    """The event is older than the retention: it would be dropped at once."""


@dataclass(frozen=True)
class EventQuery:
    since: datetime | None = None
    until: datetime | None = None
    backend: str | None = None
    limit: int = 100


def _score(when: datetime) -> float:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


class EventStore:
    def __init__(self, redis: aioredis.Redis, *, retention_s: int, cap: int) -> None:
        self.redis = redis
        self.retention_s = retention_s
        self.cap = cap
        self._record = redis.register_script(_RECORD)

    async def record(self, event: ChangeEvent, *, now: datetime | None = None) -> tuple[ChangeEvent, bool]:
        """(the stored event, True) when new; (the event stored earlier under its id, False)."""
        now = now or datetime.now(UTC)
        oldest = now - timedelta(seconds=self.retention_s)
        if event.at < oldest:
            raise TooOld(f"at {event.at.isoformat()} is older than the {self.retention_s} s retention")
        created, raw = await self._record(
            keys=[EVENTS_BY_ID, EVENTS_BY_TIME],
            args=[event.id, event.model_dump_json(), _score(event.at), _score(oldest), self.cap, self.retention_s],
        )
        return ChangeEvent.model_validate_json(raw), bool(created)

    async def query(self, q: EventQuery) -> list[ChangeEvent]:
        """Events with since <= at <= until (and on `backend`), newest first, at most `limit`."""
        low = _score(q.since) if q.since else "-inf"
        high = _score(q.until) if q.until else "+inf"
        ids = await self.redis.zrevrangebyscore(EVENTS_BY_TIME, high, low, start=0, num=SCAN_CAP)
        if not ids:
            return []
        out: list[ChangeEvent] = []
        for raw in await self.redis.hmget(EVENTS_BY_ID, ids):
            if raw is None:
                continue
            try:
                event = ChangeEvent.model_validate_json(raw)
            except ValidationError:  # written by an older release: skipped, never a 500
                continue
            if q.backend is not None and event.backend != q.backend:
                continue
            out.append(event)
            if len(out) >= q.limit:
                break
        return out

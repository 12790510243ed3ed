"""Incidents in Redis: one JSON document per incident (timeline inside), sequential ids (INCR),
small indexes for listing, open count, quiet-period resolution and the memory of past incidents.

Every change is a read-modify-write under WATCH/MULTI, so concurrent writers (the alert worker,
API calls, a second agent-service process) never lose each other's updates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from agent_service.alerts.models import group_hash
from agent_service.incidents.models import Incident, IncidentStatus
from agent_service.incidents.notify_retry import retry_at

T = TypeVar("T")

SEQ = "incidents:seq"
BY_CREATED = "incidents:by_created"
OPEN = "incidents:open"
MITIGATED = "incidents:mitigated"
RESOLVED = "incidents:resolved"
PENDING = "incidents:pending"  # incidents with actions not carried out yet
RETRY_AT = "incidents:retry_at"  # incidents whose next notification backs off, by when it is due
MAX_UPDATE_ATTEMPTS = 50


def incident_key(incident_id: int) -> str:
    return f"incident:{incident_id}"


def group_open_key(ghash: str) -> str:
    """groupKey → the id of the group's incident while it is not RESOLVED."""
    return f"alerts:group:{ghash}"


def group_last_key(ghash: str) -> str:
    """groupKey → the id of the group's most recent incident (to link a new one to it)."""
    return f"alerts:group_last:{ghash}"


def group_epoch_key(ghash: str) -> str:
    """groupKey → {epoch: firing → resolved → firing turns seen, last: last delivery's status}."""
    return f"alerts:group_epoch:{ghash}"


class IncidentNotFound(LookupError):
    pass


def _text(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else raw


class IncidentStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def next_id(self) -> int:
        return int(await self.redis.incr(SEQ))

    async def get(self, incident_id: int) -> Incident | None:
        raw = _text(await self.redis.get(incident_key(incident_id)))
        return Incident.model_validate_json(raw) if raw else None

    async def create(self, incident: Incident) -> bool:
        """Store a new incident; False when that id already exists (a replayed creation)."""
        key = incident_key(incident.id)
        async with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(MAX_UPDATE_ATTEMPTS):
                try:
                    await pipe.watch(key)
                    if await pipe.exists(key):
                        await pipe.unwatch()
                        return False
                    pipe.multi()
                    pipe.set(key, incident.model_dump_json())
                    pipe.zadd(BY_CREATED, {str(incident.id): incident.created_at.timestamp()})
                    self._index(pipe, incident)
                    await pipe.execute()
                    return True
                except WatchError:
                    continue
        raise RuntimeError(f"incident {incident.id}: too much contention")

    async def update(self, incident_id: int, change: Callable[[Incident], T]) -> tuple[Incident, T]:
        """Apply `change` (which mutates the incident, may raise) atomically; retried on conflict."""
        key = incident_key(incident_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(MAX_UPDATE_ATTEMPTS):
                try:
                    await pipe.watch(key)
                    raw = _text(await pipe.get(key))
                    if raw is None:
                        await pipe.unwatch()
                        raise IncidentNotFound(incident_id)
                    incident = Incident.model_validate_json(raw)
                    result = change(incident)
                    release_group = None
                    if incident.status == IncidentStatus.RESOLVED and incident.group_key:
                        release_group = group_open_key(group_hash(incident.group_key))
                        await pipe.watch(release_group)
                        if _text(await pipe.get(release_group)) != str(incident_id):
                            release_group = None
                    pipe.multi()
                    pipe.set(key, incident.model_dump_json())
                    self._index(pipe, incident)
                    if release_group:
                        pipe.delete(release_group)
                    await pipe.execute()
                    return incident, result
                except WatchError:
                    continue
        raise RuntimeError(f"incident {incident_id}: too much contention")

    async def finish(self, incident_id: int, key: str, change: Callable[[Incident], None]) -> Incident:
        """Record a pending action's outcome (`change`) and remove the action, atomically."""

        def done(incident: Incident) -> None:
            change(incident)
            incident.pending = [p for p in incident.pending if p.key != key]

        incident, _ = await self.update(incident_id, done)
        return incident

    @staticmethod
    def _index(pipe: aioredis.client.Pipeline, incident: Incident) -> None:
        member = str(incident.id)
        if incident.pending:
            pipe.sadd(PENDING, member)
        else:
            pipe.srem(PENDING, member)
        due = retry_at(incident)
        if due is not None:
            pipe.zadd(RETRY_AT, {member: due.timestamp()})
        else:
            pipe.zrem(RETRY_AT, member)
        if incident.status == IncidentStatus.RESOLVED:
            pipe.srem(OPEN, member)
            pipe.zrem(MITIGATED, member)
            pipe.zadd(RESOLVED, {member: (incident.resolved_at or incident.updated_at).timestamp()})
        else:
            pipe.sadd(OPEN, member)
            pipe.zrem(RESOLVED, member)
            if incident.status == IncidentStatus.MITIGATED and incident.mitigated_at:
                pipe.zadd(MITIGATED, {member: incident.mitigated_at.timestamp()})
            else:
                pipe.zrem(MITIGATED, member)

    async def _load(self, ids: list[bytes | str]) -> list[Incident]:
        if not ids:
            return []
        raws = await self.redis.mget([incident_key(int(_text(i) or 0)) for i in ids])
        return [Incident.model_validate_json(_text(r) or "") for r in raws if r]

    async def recent(self, scan: int) -> list[Incident]:
        """The `scan` most recently created incidents, newest first."""
        return await self._load(await self.redis.zrevrange(BY_CREATED, 0, scan - 1))

    async def resolved(self, scan: int) -> list[Incident]:
        return await self._load(await self.redis.zrevrange(RESOLVED, 0, scan - 1))

    async def mitigated_before(self, timestamp: float, limit: int = 100) -> list[int]:
        ids = await self.redis.zrangebyscore(MITIGATED, "-inf", timestamp, start=0, num=limit)
        return [int(_text(i) or 0) for i in ids]

    async def with_pending(self, limit: int = 100) -> list[int]:
        return [int(_text(i) or 0) for i in (await self.redis.srandmember(PENDING, limit) or [])]

    async def retries_due(self, timestamp: float, limit: int = 100) -> list[int]:
        """Incidents whose backing-off notification is due at `timestamp` (epoch seconds)."""
        ids = await self.redis.zrangebyscore(RETRY_AT, "-inf", timestamp, start=0, num=limit)
        return [int(_text(i) or 0) for i in ids]

    async def open_count(self) -> int:
        return int(await self.redis.scard(OPEN))

    async def group_incident(self, group_key: str) -> int | None:
        raw = _text(await self.redis.get(group_open_key(group_hash(group_key))))
        return int(raw) if raw else None

    async def group_last(self, group_key: str) -> int | None:
        raw = _text(await self.redis.get(group_last_key(group_hash(group_key))))
        return int(raw) if raw else None

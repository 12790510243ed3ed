"""Incidents in Redis: one JSON document per incident (timeline inside), sequential ids (INCR),
small indexes for listing (listing.py), open count, quiet-period resolution and the memory of
past incidents, each written in the same MULTI as the document.

Every change is a read-modify-write in a WATCH/MULTI transaction (`Redis.transaction`), so concurrent writers (the alert worker,
API calls, a second agent-service process) never lose each other's updates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property
from typing import TypeVar

import redis.asyncio as aioredis
from pydantic import ValidationError

from agent_service.incidents import followup
from agent_service.incidents.escalation import EscalationPolicy, due_at
from agent_service.incidents.listing import IncidentLists, index_for_list
from agent_service.incidents.models import Incident, IncidentStatus
from agent_service.incidents.notify_retry import retry_at
from agent_service.keys import (
    INCIDENT_SEQ,
    INCIDENTS_BY_CREATED,
    INCIDENTS_ESCALATION_DUE,
    INCIDENTS_FOLLOW_UP_DUE,
    INCIDENTS_MITIGATED,
    INCIDENTS_OPEN,
    INCIDENTS_PENDING,
    INCIDENTS_RESOLVED,
    INCIDENTS_RETRY_AT,
    group_hash,
    group_last_key,
    group_open_key,
    incident_key,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Pipeline = aioredis.client.Pipeline


class IncidentNotFound(LookupError):
    pass


def _text(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else raw


class IncidentStore:
    def __init__(self, redis: aioredis.Redis, *, escalation: EscalationPolicy | None = None,
                 follow_up: followup.FollowUpPolicy | None = None) -> None:
        self.redis = redis
        self.escalation = escalation or EscalationPolicy()
        self.follow_up = follow_up or followup.FollowUpPolicy()

    async def next_id(self) -> int:
        return int(await self.redis.incr(INCIDENT_SEQ))

    async def get(self, incident_id: int) -> Incident | None:
        raw = _text(await self.redis.get(incident_key(incident_id)))
        return Incident.model_validate_json(raw) if raw else None

    async def create(self, incident: Incident) -> bool:
        """Store a new incident; False when that id already exists (a replayed creation)."""
        key = incident_key(incident.id)

        async def attempt(pipe: Pipeline) -> bool:
            if await pipe.exists(key):
                await pipe.unwatch()
                return False
            pipe.multi()
            pipe.set(key, incident.model_dump_json())
            pipe.zadd(INCIDENTS_BY_CREATED, {str(incident.id): incident.created_at.timestamp()})
            self._index(pipe, incident)
            return True

        return bool(await self.redis.transaction(attempt, key, value_from_callable=True))

    async def update(self, incident_id: int, change: Callable[[Incident], T]) -> tuple[Incident, T]:
        """Apply `change` (which mutates the incident, may raise) atomically: redis-py's
        WATCH/MULTI transaction, run again on a fresh copy when another writer got there first."""
        key = incident_key(incident_id)

        async def attempt(pipe: Pipeline) -> tuple[Incident, T]:
            raw = _text(await pipe.get(key))
            if raw is None:
                await pipe.unwatch()
                raise IncidentNotFound(incident_id)
            incident = Incident.model_validate_json(raw)
            result = change(incident)
            release_group = await _group_to_release(pipe, incident)
            pipe.multi()
            pipe.set(key, incident.model_dump_json())
            self._index(pipe, incident)
            if release_group:
                pipe.delete(release_group)
            return incident, result

        return await self.redis.transaction(attempt, key, value_from_callable=True)  # type: ignore[no-any-return]

    async def finish(self, incident_id: int, key: str, change: Callable[[Incident], None]) -> Incident:
        """Record a pending action's outcome (`change`) and remove the action, atomically."""

        def done(incident: Incident) -> None:
            change(incident)
            incident.pending = [p for p in incident.pending if p.key != key]

        incident, _ = await self.update(incident_id, done)
        return incident

    def _index(self, pipe: Pipeline, incident: Incident) -> None:
        member = str(incident.id)
        escalation = due_at(incident, self.escalation)
        if escalation is not None:
            pipe.zadd(INCIDENTS_ESCALATION_DUE, {member: escalation.timestamp()})
        else:
            pipe.zrem(INCIDENTS_ESCALATION_DUE, member)
        follow_up = followup.due_at(incident, self.follow_up)
        if follow_up is not None:
            pipe.zadd(INCIDENTS_FOLLOW_UP_DUE, {member: follow_up.timestamp()})
        else:
            pipe.zrem(INCIDENTS_FOLLOW_UP_DUE, member)
        if incident.pending:
            pipe.sadd(INCIDENTS_PENDING, member)
        else:
            pipe.srem(INCIDENTS_PENDING, member)
        due = retry_at(incident)
        if due is not None:
            pipe.zadd(INCIDENTS_RETRY_AT, {member: due.timestamp()})
        else:
            pipe.zrem(INCIDENTS_RETRY_AT, member)
        if incident.status == IncidentStatus.RESOLVED:
            pipe.srem(INCIDENTS_OPEN, member)
            pipe.zrem(INCIDENTS_MITIGATED, member)
            pipe.zadd(INCIDENTS_RESOLVED, {member: (incident.resolved_at or incident.updated_at).timestamp()})
        else:
            pipe.sadd(INCIDENTS_OPEN, member)
            pipe.zrem(INCIDENTS_RESOLVED, member)
            if incident.status == IncidentStatus.MITIGATED and incident.mitigated_at:
                pipe.zadd(INCIDENTS_MITIGATED, {member: incident.mitigated_at.timestamp()})
            else:
                pipe.zrem(INCIDENTS_MITIGATED, member)
        index_for_list(pipe, incident)

    async def _load(self, ids: list[bytes | str]) -> list[Incident]:
        if not ids:
            return []
        raws = await self.redis.mget([incident_key(int(_text(i) or 0)) for i in ids])
        return [Incident.model_validate_json(_text(r) or "") for r in raws if r]

    async def resolved(self, scan: int) -> list[Incident]:
        return await self._load(await self.redis.zrevrange(INCIDENTS_RESOLVED, 0, scan - 1))

    async def mitigated_before(self, timestamp: float, limit: int = 100) -> list[int]:
        ids = await self.redis.zrangebyscore(INCIDENTS_MITIGATED, "-inf", timestamp, start=0, num=limit)
        return [int(_text(i) or 0) for i in ids]

    async def with_pending(self, limit: int = 100) -> list[int]:
        return [int(_text(i) or 0) for i in (await self.redis.srandmember(INCIDENTS_PENDING, limit) or [])]

    async def retries_due(self, timestamp: float, limit: int = 100) -> list[int]:
        """Incidents whose backing-off notification is due at `timestamp` (epoch seconds)."""
        ids = await self.redis.zrangebyscore(INCIDENTS_RETRY_AT, "-inf", timestamp, start=0, num=limit)
        return [int(_text(i) or 0) for i in ids]

    async def follow_ups_due(self, timestamp: float, limit: int = 100) -> list[int]:
        """Incidents whose follow-up analysis is due at `timestamp` (claimed with followup.claim)."""
        return await self._due(INCIDENTS_FOLLOW_UP_DUE, timestamp, limit)

    async def escalations_due(self, timestamp: float, limit: int = 100) -> list[int]:
        """Incidents whose next escalation step is due at `timestamp` (claimed with escalation.claim_step)."""
        return await self._due(INCIDENTS_ESCALATION_DUE, timestamp, limit)

    async def _due(self, key: str, timestamp: float, limit: int) -> list[int]:
        ids = await self.redis.zrangebyscore(key, "-inf", timestamp, start=0, num=limit)
        return [int(_text(i) or 0) for i in ids]

    async def open_ids(self, limit: int = 50) -> list[int]:
        """Ids of incidents not RESOLVED, newest first (at most `limit`)."""
        ids = sorted((int(_text(i) or 0) for i in await self.redis.smembers(INCIDENTS_OPEN)), reverse=True)
        return ids[:limit]

    async def open_count(self) -> int:
        return int(await self.redis.scard(INCIDENTS_OPEN))

    async def group_incident(self, group_key: str) -> int | None:
        raw = _text(await self.redis.get(group_open_key(group_hash(group_key))))
        return int(raw) if raw else None

    async def group_last(self, group_key: str) -> int | None:
        raw = _text(await self.redis.get(group_last_key(group_hash(group_key))))
        return int(raw) if raw else None

    @cached_property
    def lists(self) -> IncidentLists:
        """`GET /incidents` pages, from the indexes `_index` writes (listing.py)."""
        return IncidentLists(self.redis)

    async def reindex(self, ids: list[int]) -> int:
        """Write the indexes of these stored incidents again from their documents (watched, so a
        concurrent change is never indexed from a stale copy); returns how many were indexed."""
        keys = [incident_key(i) for i in ids]

        async def attempt(pipe: Pipeline) -> int:
            incidents = []
            for key, raw in zip(keys, await pipe.mget(keys), strict=True):
                if raw is None:
                    continue
                try:
                    incidents.append(Incident.model_validate_json(_text(raw) or ""))
                except ValidationError as exc:
                    log.warning("%s is not a readable incident, left out of the indexes: %s", key, exc)
            pipe.multi()
            for incident in incidents:
                self._index(pipe, incident)
            return len(incidents)

        return await self.redis.transaction(attempt, *keys, value_from_callable=True)  # type: ignore[no-any-return]


async def _group_to_release(pipe: Pipeline, incident: Incident) -> str | None:
    """A RESOLVED incident frees its alert group (the next firing opens a new incident), unless
    the group already points elsewhere; the key is watched with the incident's."""
    if incident.status != IncidentStatus.RESOLVED or not incident.group_key:
        return None
    key = group_open_key(group_hash(incident.group_key))
    await pipe.watch(key)
    return key if _text(await pipe.get(key)) == str(incident.id) else None

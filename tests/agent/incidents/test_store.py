"""IncidentStore on a real redis-server: concurrent writers through Redis.transaction lose
nothing, a change that raises stores nothing, and RESOLVED frees the alert group."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from agent_service.incidents.lifecycle import now_utc
from agent_service.incidents.models import Incident, IncidentStatus
from agent_service.incidents.store import IncidentNotFound, IncidentStore
from agent_service.keys import group_hash, group_open_key


def _incident(incident_id: int, group_key: str | None = None) -> Incident:
    now = now_utc()
    return Incident(id=incident_id, title="t", created_at=now, updated_at=now, group_key=group_key)


async def test_concurrent_updates_each_land_once(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        store, other = IncidentStore(client), IncidentStore(aioredis.Redis.from_url(redis_url))
        assert await store.create(_incident(1)) is True
        assert await store.create(_incident(1)) is False  # a replayed creation

        def note(text: str):  # type: ignore[no-untyped-def]
            return lambda inc: inc.action_items.append(text)

        await asyncio.gather(*((store, other)[i % 2].update(1, note(f"item {i}")) for i in range(40)))
        stored = await store.get(1)
        await other.redis.aclose()
    finally:
        await client.aclose()
    assert stored is not None and sorted(stored.action_items) == sorted(f"item {i}" for i in range(40))


async def test_a_change_that_raises_stores_nothing_and_unknown_ids_are_not_found(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = IncidentStore(client)
        await store.create(_incident(1))

        def broken(inc: Incident) -> None:
            inc.title = "changed"
            raise ValueError("refused")

        with pytest.raises(ValueError):
            await store.update(1, broken)
        with pytest.raises(IncidentNotFound):
            await store.update(2, lambda inc: None)
        stored = await store.get(1)
    finally:
        await client.aclose()
    assert stored is not None and stored.title == "t"


async def test_resolving_frees_the_group_only_when_it_points_at_this_incident(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = IncidentStore(client)
        for incident_id, group in ((1, "g1"), (2, "g2")):
            await store.create(_incident(incident_id, group))
        await client.set(group_open_key(group_hash("g1")), 1)
        await client.set(group_open_key(group_hash("g2")), 9)  # the group moved on to another incident

        def resolve(inc: Incident) -> None:
            inc.status = IncidentStatus.RESOLVED

        await store.update(1, resolve)
        await store.update(2, resolve)
        freed, kept = await store.group_incident("g1"), await store.group_incident("g2")
        open_count = await store.open_count()
    finally:
        await client.aclose()
    assert freed is None and kept == 9
    assert open_count == 0

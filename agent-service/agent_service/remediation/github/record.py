"""Where the filer remembers what it filed for an incident, so a retried call returns the same URL.

The record is the fast path; the marker in each body (bodies.marker) is the fallback that also
covers a crash between GitHub's answer and the record's write.
"""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis


def filed_key(incident_id: int, kind: str) -> str:
    return f"github:filed:{incident_id}:{kind}"  # string → JSON of Filed; no TTL (a link forever)


class FiledRecord(Protocol):
    async def get(self, incident_id: int, kind: str) -> str | None: ...

    async def put(self, incident_id: int, kind: str, value: str) -> None: ...


class RedisFiledRecord:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self, incident_id: int, kind: str) -> str | None:
        raw = await self._redis.get(filed_key(incident_id, kind))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def put(self, incident_id: int, kind: str, value: str) -> None:
        await self._redis.set(filed_key(incident_id, kind), value)


class MemoryFiledRecord:
    """For a process without Redis (and tests): the markers still make retries safe across restarts."""

    def __init__(self) -> None:
        self._values: dict[tuple[int, str], str] = {}

    async def get(self, incident_id: int, kind: str) -> str | None:
        return self._values.get((incident_id, kind))

    async def put(self, incident_id: int, kind: str, value: str) -> None:
        self._values[(incident_id, kind)] = value

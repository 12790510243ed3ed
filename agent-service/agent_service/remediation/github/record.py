"""Where the filer remembers what it filed for an incident, so a retried call returns the same URL,
and the claim that keeps two workers from filing the same thing at once.

The record is the fast path; the marker in each body (bodies.marker) is the fallback that also
covers a crash between GitHub's answer and the record's write. A claim is held while one filing
runs (`github:filing:{incident}:{kind}`, SET NX with a TTL); a second worker that cannot claim gets
GitHubBusy and retries later, by when the record holds the URL.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from redis.asyncio import Redis

from oncall_common.lua import lua_script

CLAIM_TTL_MS = 120_000  # longer than a filing with its bounded retries takes

_RELEASE = lua_script("agent_service.remediation.github", "release_claim.lua", strip_comments=True)


def filed_key(incident_id: int, kind: str) -> str:
    return f"github:filed:{incident_id}:{kind}"  # string → JSON of Filed; no TTL (a link forever)


def claim_key(incident_id: int, kind: str) -> str:
    return f"github:filing:{incident_id}:{kind}"  # string → the claimant's token; CLAIM_TTL_MS


class FiledRecord(Protocol):
    async def get(self, incident_id: int, kind: str) -> str | None: ...

    async def put(self, incident_id: int, kind: str, value: str) -> None: ...

    async def claim(self, incident_id: int, kind: str) -> str | None:
        """A token when this caller may file now; None while another holds the claim."""

    async def release(self, incident_id: int, kind: str, token: str) -> None: ...


class RedisFiledRecord:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self, incident_id: int, kind: str) -> str | None:
        raw = await self._redis.get(filed_key(incident_id, kind))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def put(self, incident_id: int, kind: str, value: str) -> None:
        await self._redis.set(filed_key(incident_id, kind), value)

    async def claim(self, incident_id: int, kind: str) -> str | None:
        token = secrets.token_hex(8)
        won = await self._redis.set(claim_key(incident_id, kind), token, nx=True, px=CLAIM_TTL_MS)
        return token if won else None

    async def release(self, incident_id: int, kind: str, token: str) -> None:
        await self._redis.eval(_RELEASE, 1, claim_key(incident_id, kind), token)  # type: ignore[misc]


class MemoryFiledRecord:
    """For one process without Redis (and tests): the markers still make retries safe across restarts."""

    def __init__(self) -> None:
        self._values: dict[tuple[int, str], str] = {}
        self._claims: set[tuple[int, str]] = set()

    async def get(self, incident_id: int, kind: str) -> str | None:
        return self._values.get((incident_id, kind))

    async def put(self, incident_id: int, kind: str, value: str) -> None:
        self._values[(incident_id, kind)] = value

    async def claim(self, incident_id: int, kind: str) -> str | None:
        if (incident_id, kind) in self._claims:
            return None
        self._claims.add((incident_id, kind))
        return "memory"

    async def release(self, incident_id: int, kind: str, token: str) -> None:
        self._claims.discard((incident_id, kind))

"""Name cap: at most `cap` distinct frontends, backends and servers; the rest are `__other__`.

Admission is decided in Redis (atomic across replicas); this process remembers the answers
(bounded) so a known name costs no round trip.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from ingestion_service.signals.aggregate import BACKEND, FRONTEND, SERVER
from ingestion_service.store import keys
from ingestion_service.store.scripts import ADMIT_NAMES

_REJECTED_LIMIT = 10_000
MAX_NAME_LENGTH = 128


class NameRegistry:
    def __init__(self, *, cap: int, server_cap: int, ttl: int) -> None:
        self.caps = {FRONTEND: cap, BACKEND: cap, SERVER: server_cap}
        self.ttl = ttl
        self.admitted: dict[str, set[str]] = {k: set() for k in self.caps}
        self.rejected: dict[str, set[str]] = {k: set() for k in self.caps}

    async def resolve(self, redis: aioredis.Redis, wanted: dict[str, set[str]]) -> None:
        """Ask Redis about names not seen before (one round trip per kind with new names)."""
        for kind, names in wanted.items():
            unknown = [n for n in names if n not in self.admitted[kind] and n not in self.rejected[kind]]
            if not unknown:
                continue
            too_long = [n for n in unknown if len(n) > MAX_NAME_LENGTH]
            unknown = [n for n in unknown if len(n) <= MAX_NAME_LENGTH]
            self._reject(kind, too_long)
            if not unknown:
                continue
            answers = await redis.eval(
                ADMIT_NAMES, 1, keys.names_key(kind), self.caps[kind], self.ttl, *unknown
            )
            for name, ok in zip(unknown, answers):
                if int(ok):
                    self.admitted[kind].add(name)
                else:
                    self._reject(kind, [name])

    def _reject(self, kind: str, names: list[str]) -> None:
        if len(self.rejected[kind]) + len(names) > _REJECTED_LIMIT:
            self.rejected[kind].clear()
        self.rejected[kind].update(names)

    def rename(self, kind: str, name: str) -> str:
        return name if name in self.admitted[kind] else keys.OTHER

    def forget(self) -> None:
        """After Redis lost its data (restart without persistence) names are admitted again."""
        for kind in self.caps:
            self.admitted[kind].clear()
            self.rejected[kind].clear()

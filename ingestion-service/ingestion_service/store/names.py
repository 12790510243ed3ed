"""Name cap: at most `cap` new frontends, backends and servers admitted per hour; the rest are
`__other__`. A name admitted in this hour or the previous one stays itself, so real names keep
their slots while junk that stops arriving ages out: a flood cannot hold the cap for good.

Admission is decided in Redis (atomic across replicas); this process remembers the answers of
the current hour (bounded) so a known name costs no round trip.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ingestion_service.signals.aggregate import BACKEND, FRONTEND, SERVER
from ingestion_service.store import keys
from ingestion_service.store.client import Store
from ingestion_service.store.scripts import ADMIT_NAMES

_REJECTED_LIMIT = 10_000
MAX_NAME_LENGTH = 128
HOUR = 3600
KIND_LABELS = {FRONTEND: "frontend", BACKEND: "backend", SERVER: "server"}


class NameRegistry:
    def __init__(self, *, cap: int, server_cap: int, ttl: int, clock: Callable[[], float] = time.time,
                 on_folded: Callable[[str, int], None] | None = None) -> None:
        self.caps = {FRONTEND: cap, BACKEND: cap, SERVER: server_cap}
        self.ttl = ttl
        self.clock = clock
        self.on_folded = on_folded  # (kind label, names refused): the flood, as a metric
        self.hour = int(clock() // HOUR)
        self.admitted: dict[str, set[str]] = {k: set() for k in self.caps}
        self.rejected: dict[str, set[str]] = {k: set() for k in self.caps}

    async def resolve(self, redis: Store, wanted: dict[str, set[str]]) -> None:
        """Ask Redis about names not seen this hour (one round trip per kind with new names)."""
        hour = int(self.clock() // HOUR)
        if hour != self.hour:  # a new hour: every name is asked again (refused ones get a chance)
            self.hour = hour
            self.forget()
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
                ADMIT_NAMES, 2, keys.admitted_key(kind, hour), keys.admitted_key(kind, hour - 1),
                self.caps[kind], 2 * HOUR, *unknown
            )
            refused = [name for name, ok in zip(unknown, answers) if not int(ok)]
            self.admitted[kind].update(name for name, ok in zip(unknown, answers) if int(ok))
            self._reject(kind, refused)

    def _reject(self, kind: str, names: list[str]) -> None:
        if names and self.on_folded is not None:
            self.on_folded(KIND_LABELS[kind], len(names))
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

"""REDIS_WAIT_REPLICAS: a batch is acknowledged only once that many replicas hold its writes
(`WAIT n timeout` on the connection that wrote them; docs/cluster.md). Shared by the standalone
writer (store/writer.py) and the cluster writer (store/cluster_writer.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import redis.exceptions as rex


class ClusterUnavailable(rex.ConnectionError):
    """Part of the batch may be written; nothing is acknowledged: retry with the same key.
    A redis ConnectionError, so the shared handlers answer 503 with Retry-After."""


class ReplicasUnavailable(ClusterUnavailable):
    """The master wrote the batch but fewer replicas than REDIS_WAIT_REPLICAS confirmed it in time."""

    def __init__(self, reason: str, short: list[str]) -> None:
        self.reason = reason  # what the client is told (no host names)
        super().__init__(f"{reason} ({', '.join(short)})")


@dataclass(frozen=True)
class Durability:
    replicas: int = 0  # REDIS_WAIT_REPLICAS
    timeout_ms: int = 1000  # REDIS_WAIT_TIMEOUT_MS

    def wait_command(self) -> tuple[str, int, int]:
        return ("WAIT", self.replicas, self.timeout_ms)

    def check(self, acked: Iterable[tuple[str, int]]) -> None:
        """`acked`: (where, WAIT's answer) per server written; raises when any is short."""
        short = [f"{where}: {n}" for where, n in acked if n < self.replicas]
        if short:
            raise ReplicasUnavailable(
                f"fewer than {self.replicas} replicas confirmed the write within {self.timeout_ms} ms", short)

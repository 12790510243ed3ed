"""Servers whose own bad rate stands out from their peers' (pure): the per-server count test the
error modes share. A server is an outlier when its rate of bad requests (5xx, or refused
connections) is clearly above the pooled rate of the servers not yet singled out — the Wilson
bounds of `stats.proportion_above`, so neither a small server nor a small pool decides by
chance — with a size floor (enough bad requests, a rate worth a warning on its own) and a
margin (at least OUTLIER_FACTOR times its peers' rate). Several may stand out: at most
MAX_OUTLIERS and at most half the pool, else nobody is named — when most servers fail, the
backend fails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent_service.diagnosis.stats import proportion_above

# A server merely a bit worse than a failing pool is the pool's problem, not its own: its rate
# must be at least this many times its peers' pooled rate (significance alone is reached by a
# small gap once the counts are large).
OUTLIER_FACTOR = 2.0
# Named one by one, in order of their rate: beyond a few, the story is the backend's, not its servers'.
MAX_OUTLIERS = 3


@dataclass(frozen=True)
class Count:
    name: str
    bad: int
    requests: int

    @property
    def rate(self) -> float:
        """The bad share in [0, 1] (a server may log more refusals than answered requests)."""
        return min(self.bad, self.requests) / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Outlier:
    count: Count
    peers_bad: int
    peers_requests: int

    @property
    def peers_rate(self) -> float:
        return min(self.peers_bad, self.peers_requests) / self.peers_requests if self.peers_requests else 0.0


def stands_out(c: Count, peers_bad: int, peers_requests: int, *, min_bad: int, min_rate: float) -> bool:
    """Is `c`'s rate above its peers' pooled one: a count test, a size floor and a margin."""
    if c.bad < min_bad or c.rate <= min_rate or peers_requests <= 0:
        return False
    peers_rate = min(peers_bad, peers_requests) / peers_requests
    return (c.rate >= OUTLIER_FACTOR * peers_rate
            and proportion_above(min(c.bad, c.requests), c.requests, min(peers_bad, peers_requests), peers_requests))


def outliers(counts: Sequence[Count], *, min_bad: int, min_rate: float, min_share: float) -> list[Outlier]:
    """The servers that stand out, highest rate first, each judged against the servers not
    singled out before it. `min_rate` is a share in [0, 1]; `min_share`: together they must hold
    at least this share of the pool's bad requests, else the pool is failing as a whole and
    nobody is named."""
    pool = [c for c in counts if c.requests > 0]
    rest = sorted(pool, key=lambda c: (-c.rate, -c.bad, c.name))
    picked: list[Outlier] = []
    for c in list(rest):
        peers = [p for p in rest if p is not c]
        peers_bad, peers_n = sum(p.bad for p in peers), sum(p.requests for p in peers)
        if stands_out(c, peers_bad, peers_n, min_bad=min_bad, min_rate=min_rate):
            picked.append(Outlier(c, peers_bad, peers_n))
            rest = peers
    total = sum(c.bad for c in pool)
    if not picked or len(picked) > MAX_OUTLIERS or 2 * len(picked) > len(pool):
        return []  # nobody, or too many of the pool to be the servers' own faults
    if sum(o.count.bad for o in picked) < min_share * total:
        return []  # the unnamed rest fails too: the pool's problem
    # the peers' rate each one is told against: the servers left unnamed
    peers_bad, peers_n = sum(p.bad for p in rest), sum(p.requests for p in rest)
    return [Outlier(o.count, peers_bad, peers_n) for o in picked]

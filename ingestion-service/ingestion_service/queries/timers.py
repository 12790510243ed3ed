"""Tr (HAProxy's server response time) of any scope.

Only backends keep a Tr sketch (the memory budget, docs/benchmarks.md). Every request lands in
exactly one backend scope (`__other__` included), so the site's Tr sketch is the merge of every
backend's, and a frontend's is the merge of the backends it routes to when none of them serves
another frontend too (else unknown). Servers keep none: their Tr count, mean and maximum come from
the counters (`tr` sum, `ur` requests without Tr, `x:tr`).
"""

from __future__ import annotations

from typing import Any


from ingestion_service.signals.aggregate import BACKEND, FRONTEND, PAIR, SITE, pair_name
from ingestion_service.sketch import Sketch
from ingestion_service.store import reader
from ingestion_service.store.reader import MinuteData, NamedWindow
from ingestion_service.store.client import Store


def merged(parts: list[dict[int, int]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for buckets in parts:
        for k, c in buckets.items():
            out[k] = out.get(k, 0) + c
    return out


def frontend_tr(frontend: str, backends: list[str],
                data: dict[tuple[str, str], NamedWindow]) -> dict[int, int] | None:
    """A frontend's Tr buckets from `data` holding the (PAIR, frontend|backend) and (BACKEND, name)
    windows of `backends`: None when a backend it routes to also serves another frontend."""
    parts = []
    for b in backends:
        pair = data[(PAIR, pair_name(frontend, b))]
        if pair.requests == 0:
            continue
        whole = data[(BACKEND, b)]
        if whole.requests != pair.requests or whole.tr_buckets is None:
            return None
        parts.append(whole.tr_buckets)
    return merged(parts)


async def tr_buckets(redis: Store, scope: tuple[str, str], minutes: list[int]) -> dict[int, int] | None:
    """The Tr sketch buckets of `scope` over `minutes`, None where it cannot be known."""
    kind, name = scope
    if kind == BACKEND:
        return await reader.read_packed(redis, scope, minutes)
    if kind not in (SITE, FRONTEND):
        return None
    backends = await reader.names(redis, BACKEND)
    scopes = [(BACKEND, b) for b in backends]
    if kind == FRONTEND:
        scopes += [(PAIR, pair_name(name, b)) for b in backends]
    data = await reader.read_named(redis, scopes, minutes, counts_only=frozenset(scopes))
    if kind == SITE:
        return merged([data[s].tr_buckets or {} for s in scopes])
    return frontend_tr(name, backends, data)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def timer_count(data: list[MinuteData], missing: str) -> int:
    """Requests of `data` whose timer was reached (n minus the `missing` counter)."""
    return sum(d.sums.get("n", 0) - d.sums.get(missing, 0) for d in data)


def peak(data: list[MinuteData], name: str) -> int | None:
    values = [d.maxima[name] for d in data if name in d.maxima]
    return max(values) if values else None


def tr_summary(data: list[MinuteData], buckets: dict[int, int] | None) -> dict[str, Any]:
    """`count`, p50/p95/p99 (null without a sketch) and the exact `max_ms` of Tr."""
    s = Sketch(buckets or {})
    known = buckets is not None
    top = peak(data, "tr")
    return {"count": timer_count(data, "ur"),
            "p50_ms": _ms(s.quantile(0.5)) if known else None,
            "p95_ms": _ms(s.quantile(0.95)) if known else None,
            "p99_ms": _ms(s.quantile(0.99)) if known else None,
            "max_ms": float(top) if top is not None else None}

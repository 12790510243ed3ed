"""GET /metrics/breakdown: every scope's facts over a window and a baseline, with their minutes.

Three round trips whatever the number of scopes: the names; the frontend×backend counts (which
frontend routes to which backend, for the filters and `routes`); then every selected scope's
per-minute counters (HGETALL, cheap) with its Ta/Tr buckets merged inside Redis per span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from ingestion_service.queries import timers
from ingestion_service.queries.stats import iso, minutes_of, stats_of
from ingestion_service.queries.window import Window
from ingestion_service.signals.aggregate import BACKEND, FRONTEND, PAIR, SERVER, SITE
from ingestion_service.store import reader
from ingestion_service.store.keys import OTHER

Scope = tuple[str, str]
KIND_NAMES = {SITE: "site", FRONTEND: "frontend", BACKEND: "backend", SERVER: "server"}


@dataclass(frozen=True)
class Routes:
    """Frontend → backends and backend → frontends with requests in the spans read."""

    backends_of: dict[str, list[str]]
    frontends_of: dict[str, list[str]]


def _ordered(names: set[str]) -> list[str]:
    """By name, `__other__` last."""
    return sorted(names, key=lambda n: (n == OTHER, n))


async def _routes(redis: aioredis.Redis, pairs: list[str], minutes: list[int]) -> Routes:
    data = await reader.read_named(redis, [(PAIR, p) for p in pairs], minutes,
                                   counts_only=frozenset((PAIR, p) for p in pairs))
    backends_of: dict[str, set[str]] = {}
    frontends_of: dict[str, set[str]] = {}
    for p in pairs:
        fe, _, be = p.partition("|")
        if data[(PAIR, p)].requests > 0:
            backends_of.setdefault(fe, set()).add(be)
            frontends_of.setdefault(be, set()).add(fe)
    return Routes({k: _ordered(v) for k, v in backends_of.items()},
                  {k: _ordered(v) for k, v in frontends_of.items()})


def select(known: dict[str, list[str]], routes: Routes, *, backend: str | None,
           frontend: str | None) -> list[Scope]:
    """The scopes answered, in order: site, frontends, backends, servers under their backend.
    backend=X: X, its servers and the frontends routing to it; frontend=F: F, the backends it
    routes to and their servers (both: the intersection)."""
    fes = set(known[FRONTEND])
    bes = set(known[BACKEND])
    if backend:
        bes = {backend}
        fes &= set(routes.frontends_of.get(backend, []))
    if frontend:
        fes = {frontend}
        if not backend:
            bes = set(routes.backends_of.get(frontend, []))
    servers: list[Scope] = []
    backends = _ordered(bes)
    by_backend: dict[str, list[str]] = {}
    for full in known[SERVER]:
        be, slash, _srv = full.partition("/")
        if slash:
            by_backend.setdefault(be, []).append(full)
    for be in backends:
        servers += [(SERVER, full) for full in sorted(by_backend.get(be, []))]
    if not backend and not frontend and OTHER in known[SERVER]:
        servers.append((SERVER, OTHER))  # servers over the name cap: of no single backend
    return ([(SITE, "")] + [(FRONTEND, f) for f in _ordered(fes)] + [(BACKEND, b) for b in backends]
            + servers)


async def _spans(redis: aioredis.Redis, scopes: list[Scope], backends: list[str], pairs: list[str],
                 minutes: list[int]) -> dict[Scope, reader.NamedWindow]:
    """Ta buckets of `scopes`, with every backend's Tr and the pair counts (for the site's and the
    frontends' Tr), merged over `minutes` in one round trip."""
    extra = [(BACKEND, b) for b in backends if (BACKEND, b) not in scopes] + [(PAIR, p) for p in pairs]
    return await reader.read_named(redis, scopes + extra, minutes, counts_only=frozenset(extra))


def _tr(scope: Scope, data: dict[Scope, reader.NamedWindow], backends: list[str],
        routes: Routes) -> dict[int, int] | None:
    kind, name = scope
    if kind == BACKEND:
        return data[scope].tr_buckets
    if kind == SITE:
        return timers.merged([data[(BACKEND, b)].tr_buckets or {} for b in backends])
    if kind == FRONTEND:
        return timers.frontend_tr(name, routes.backends_of.get(name, []), data)
    return None


def _row(scope: Scope, routes: Routes) -> dict[str, Any]:
    kind, name = scope
    backend = name if kind == BACKEND else None
    server = None
    if kind == SERVER:
        be, slash, srv = name.partition("/")
        backend, server = (be, srv) if slash else (None, name)
    route_list = (routes.backends_of.get(name, []) if kind == FRONTEND
                  else routes.frontends_of.get(name, []) if kind == BACKEND else [])
    return {"kind": KIND_NAMES[kind], "name": name, "backend": backend, "server": server,
            "routes": route_list}


def _span(w: Window) -> dict[str, Any]:
    return {"start": iso(w.start), "end": iso(w.start + w.seconds), "seconds": w.seconds}


async def breakdown(redis: aioredis.Redis, window: Window, baseline: Window, *,
                    backend: str | None = None, frontend: str | None = None) -> dict[str, Any]:
    win_minutes, base_minutes = window.minute_starts(), baseline.minute_starts()
    every = sorted(set(win_minutes) | set(base_minutes))
    kinds = [FRONTEND, BACKEND, SERVER, PAIR]
    names, _active = await reader.names_and_active_minutes(redis, kinds, [])
    known = dict(zip(kinds, names))
    routes = await _routes(redis, known[PAIR], every)
    candidates = select(known, routes, backend=backend, frontend=frontend)
    per_minute = await reader.read_minutes(redis, candidates, every, buckets=False)
    index = {m: i for i, m in enumerate(every)}
    win_idx, base_idx = [index[m] for m in win_minutes], [index[m] for m in base_minutes]
    named = {backend, frontend} - {None}

    def active(scope: Scope) -> bool:
        return scope[0] == SITE or scope[1] in named or any(d.sums.get("n", 0) for d in per_minute[scope])

    scopes = [s for s in candidates if active(s)]
    win = await _spans(redis, scopes, known[BACKEND], known[PAIR], win_minutes)
    base = await _spans(redis, scopes, known[BACKEND], known[PAIR], base_minutes)
    rows = []
    for scope in scopes:
        data = per_minute[scope]
        w_data, b_data = [data[i] for i in win_idx], [data[i] for i in base_idx]
        row = _row(scope, routes)
        row["window"] = stats_of(w_data, win[scope].buckets, _tr(scope, win, known[BACKEND], routes))
        row["baseline"] = stats_of(b_data, base[scope].buckets, _tr(scope, base, known[BACKEND], routes))
        row["window_minutes"] = minutes_of(win_minutes, w_data)
        row["baseline_minutes"] = minutes_of(base_minutes, b_data)
        rows.append(row)
    return {"window": _span(window), "baseline": _span(baseline), "scopes": rows}

"""GET /metrics/breakdown: every scope's facts over a window and a baseline, with their minutes.

A few round trips whatever the number of scopes: the names; the frontend×backend counts (which
frontend routes to which backend, for the filters and `routes`); then per span (window, baseline)
one script call per scope that sums its counters, takes its per-minute columns and merges its Ta/Tr
buckets inside Redis (read_span.lua), and the backends' Tr for the site's and frontends' Tr.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


from ingestion_service.queries import timers
from ingestion_service.queries.stats import FIELDS, iso, minutes_of, stats_of
from ingestion_service.queries.window import Window
from ingestion_service.signals.aggregate import BACKEND, FRONTEND, PAIR, SERVER, SITE
from ingestion_service.store import reader
from ingestion_service.store.keys import OTHER
from ingestion_service.store.client import Store

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


async def _routes(redis: Store, pairs: list[str], minutes: list[int]) -> Routes:
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
    routes to and their servers; both: F, X and X's servers."""
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


async def _tr_inputs(redis: Store, spans: dict[Scope, reader.SpanData], backends: list[str],
                     pairs: list[str], minutes: list[int]) -> dict[Scope, reader.NamedWindow]:
    """Every backend's Tr and every pair's counts over `minutes` (for the site's and the frontends'
    Tr): the backends already read come from `spans`, the others in one round trip."""
    missing = [(BACKEND, b) for b in backends if (BACKEND, b) not in spans] + [(PAIR, p) for p in pairs]
    data = await reader.read_named(redis, missing, minutes, counts_only=frozenset(missing))
    for b in backends:
        span = spans.get((BACKEND, b))
        if span is not None:
            data[(BACKEND, b)] = reader.NamedWindow(span.sums.get("n", 0), tr_buckets=span.tr_buckets)
    return data


async def _read(redis: Store, scopes: list[Scope], minutes: list[int], *,
                whole: bool) -> dict[Scope, reader.SpanData]:
    """The spans of `scopes`. Every request lands in exactly one server scope, so a backend's Ta
    buckets are its servers' merged when their requests add up (not when some servers were folded
    into `__other__`: then read in a second round trip), and with `whole` (every server among
    `scopes`) the site's are every server's."""
    servers_of: dict[str, list[Scope]] = {}
    for kind, name in scopes:
        be, slash, _ = name.partition("/")
        if kind == SERVER and slash:
            servers_of.setdefault(be, []).append((kind, name))
    derived = frozenset(s for s in scopes if s[0] == BACKEND or (s[0] == SITE and whole))
    spans = await reader.read_spans(redis, scopes, minutes, FIELDS, without_ta=derived)
    servers = [s for s in scopes if s[0] == SERVER]
    incomplete = []
    for scope in derived:
        parts = servers if scope[0] == SITE else servers_of.get(scope[1], [])
        if sum(spans[p].sums.get("n", 0) for p in parts) != spans[scope].sums.get("n", 0):
            incomplete.append(scope)
            continue
        spans[scope].buckets = timers.merged([spans[p].buckets for p in parts])
    if incomplete:
        again = await reader.read_spans(redis, incomplete, minutes, FIELDS)
        for scope in incomplete:
            spans[scope].buckets = again[scope].buckets
    return spans


def _tr(scope: Scope, spans: dict[Scope, reader.SpanData], data: dict[Scope, reader.NamedWindow],
        backends: list[str], routes: Routes) -> dict[int, int] | None:
    kind, name = scope
    if kind == BACKEND:
        return spans[scope].tr_buckets
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


async def breakdown(redis: Store, window: Window, baseline: Window, *,
                    backend: str | None = None, frontend: str | None = None) -> dict[str, Any]:
    win_minutes, base_minutes = window.minute_starts(), baseline.minute_starts()
    every = sorted(set(win_minutes) | set(base_minutes))
    kinds = [FRONTEND, BACKEND, SERVER, PAIR]
    names, _active = await reader.names_and_active_minutes(redis, kinds, [])
    known = dict(zip(kinds, names))
    routes = await _routes(redis, known[PAIR], every)
    candidates = select(known, routes, backend=backend, frontend=frontend)
    win = await _read(redis, candidates, win_minutes, whole=not (backend or frontend))
    base = await _read(redis, candidates, base_minutes, whole=not (backend or frontend))
    named = {backend, frontend} - {None}
    scopes = [s for s in candidates
              if s[0] == SITE or s[1] in named or win[s].sums.get("n", 0) or base[s].sums.get("n", 0)]
    win_tr = await _tr_inputs(redis, win, known[BACKEND], known[PAIR], win_minutes)
    base_tr = await _tr_inputs(redis, base, known[BACKEND], known[PAIR], base_minutes)
    rows = []
    for scope in scopes:
        row = _row(scope, routes)
        row["window"] = stats_of(win[scope], _tr(scope, win, win_tr, known[BACKEND], routes))
        row["baseline"] = stats_of(base[scope], _tr(scope, base, base_tr, known[BACKEND], routes))
        row["window_minutes"] = minutes_of(win_minutes, win[scope])
        row["baseline_minutes"] = minutes_of(base_minutes, base[scope])
        rows.append(row)
    return {"window": _span(window), "baseline": _span(baseline), "scopes": rows}

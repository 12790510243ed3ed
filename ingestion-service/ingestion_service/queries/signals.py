"""Read scope-minutes and turn them into the contract's answers (plain dicts for the API models)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


from ingestion_service.queries import timers
from ingestion_service.queries.stats import prefixed
from ingestion_service.queries.window import Window
from ingestion_service.signals.aggregate import BACKEND, FRONTEND, PAIR, SERVER, SITE, pair_name
from ingestion_service.sketch import Sketch
from ingestion_service.store import reader
from ingestion_service.store.reader import MinuteData
from ingestion_service.store.client import Store, server_info


def scope_for(backend: str | None, frontend: str | None) -> tuple[str, str]:
    """The scope a query reads: a backend, else a frontend, else the whole site."""
    if backend:
        return (BACKEND, backend)
    if frontend:
        return (FRONTEND, frontend)
    return (SITE, "")


def _total(data: list[MinuteData], name: str) -> int:
    return sum(d.sums.get(name, 0) for d in data)


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 3) if whole else 0.0


def _sketch(data: list[MinuteData]) -> Sketch:
    s = Sketch()
    for d in data:
        s.merge(d.buckets)
    return s


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def overview_of(data: list[MinuteData], seconds: int) -> dict[str, Any]:
    total = _total(data, "n")
    e4, e5 = _total(data, "e4"), _total(data, "e5")
    return {"window_seconds": seconds, "total_requests": total, "errors_4xx": e4, "errors_5xx": e5,
            "error_rate_4xx_pct": _pct(e4, total), "error_rate_5xx_pct": _pct(e5, total),
            "rps": round(total / seconds, 4)}


async def overview(redis: Store, window: Window, scope: tuple[str, str]) -> dict[str, Any]:
    prev = window.previous()
    minutes = prev.minute_starts() + window.minute_starts()
    data = (await reader.read_minutes(redis, [scope], minutes, buckets=False))[scope]
    current = overview_of(data[window.minutes:], window.seconds)
    current["previous"] = overview_of(data[: window.minutes], window.seconds)
    return current


async def _window_data(redis: Store, window: Window, scope: tuple[str, str], *,
                       buckets: bool = False) -> list[MinuteData]:
    return (await reader.read_minutes(redis, [scope], window.minute_starts(), buckets=buckets))[scope]


async def status_codes(redis: Store, window: Window, scope: tuple[str, str]) -> dict[str, Any]:
    data = await _window_data(redis, window, scope)
    return {"window_seconds": window.seconds, "status_codes": prefixed(data, "s:")}


async def termination_states(redis: Store, window: Window, scope: tuple[str, str]) -> dict[str, Any]:
    data = await _window_data(redis, window, scope)
    return {"window_seconds": window.seconds, "termination_states": prefixed(data, "t:")}


def latency_of(data: list[MinuteData]) -> dict[str, Any]:
    s = _sketch(data)
    maxima = [d.maxima["ta"] for d in data if "ta" in d.maxima]
    return {"count": s.count, "p50_ms": _ms(s.quantile(0.5)), "p90_ms": _ms(s.quantile(0.9)),
            "p95_ms": _ms(s.quantile(0.95)), "p99_ms": _ms(s.quantile(0.99)),
            "max_ms": float(max(maxima)) if maxima else None}


async def response_times(redis: Store, window: Window, scope: tuple[str, str]) -> dict[str, Any]:
    data = await _window_data(redis, window, scope, buckets=True)
    tr = await timers.tr_buckets(redis, scope, window.minute_starts())
    return {"window_seconds": window.seconds, **latency_of(data), "tr": timers.tr_summary(data, tr)}


async def rps_series(redis: Store, window: Window, scope: tuple[str, str]) -> dict[str, Any]:
    minutes = window.minute_starts()
    data = (await reader.read_minutes(redis, [scope], minutes, buckets=False))[scope]
    series = []
    for start, d in zip(minutes, data):
        n = d.sums.get("n", 0)
        iso = datetime.fromtimestamp(start, tz=timezone.utc).isoformat().replace("+00:00", "Z")
        series.append({"minute": iso, "requests": n, "rps": round(n / 60, 4)})
    return {"window_seconds": window.seconds, "series": series}


def _extras(w: reader.NamedWindow) -> dict[str, Any]:
    """Tr p95 (null where the scope keeps no Tr sketch), retries, redispatches, client aborts."""
    tr = None if w.tr_buckets is None else _ms(Sketch(w.tr_buckets).quantile(0.95))
    return {"tr_p95_ms": tr, "retries": w.retries, "redispatches": w.redispatches,
            "client_aborts": w.client_aborts}


def _named_row(name: str, w: reader.NamedWindow) -> dict[str, Any]:
    s = Sketch(w.buckets)
    return {"name": name, "requests": w.requests, "error_rate_5xx_pct": _pct(w.errors_5xx, w.requests),
            "p95_ms": _ms(s.quantile(0.95)), "p99_ms": _ms(s.quantile(0.99)), **_extras(w)}


def _server_row(name: str, w: reader.NamedWindow) -> dict[str, Any]:
    return {"name": name, "requests": w.requests, "errors_5xx": w.errors_5xx,
            "error_rate_5xx_pct": _pct(w.errors_5xx, w.requests), "p95_ms": _ms(Sketch(w.buckets).quantile(0.95)),
            **_extras(w)}


async def by_name(redis: Store, window: Window, kind: str, only: str | None) -> list[dict[str, Any]]:
    """One row per frontend or backend; backends carry `servers` (their backend/server scopes)."""
    kinds = [kind, SERVER] if kind == BACKEND else [kind]
    known, minutes = await reader.names_and_active_minutes(redis, kinds, window.minute_starts())
    names = [only] if only else known[0]
    if kind == BACKEND:
        data, servers = await _backends_and_servers(redis, names, known[1], minutes)
    else:
        data, servers = await reader.read_named(redis, [(kind, n) for n in names], minutes, active=True), {}
    rows = []
    for name in names:
        row = _named_row(name, data[(kind, name)])
        if kind == BACKEND:
            row["servers"] = sorted((_server_row(full.partition("/")[2], w) for full, w in servers[name].items()),
                                    key=lambda r: (-r["requests"], r["name"]))
        rows.append(row)
    rows.sort(key=lambda r: (-r["requests"], r["name"]))
    return rows


async def by_pair(redis: Store, window: Window, kind: str, only: str | None,
                  across: str) -> list[dict[str, Any]]:
    """Rows of `kind` (frontends or backends) counting only the requests that went through `across`
    (a backend, or a frontend). Counts come from the frontend×backend scope; its latency is exact
    when the row's requests are all of its own (one frontend per backend, the usual layout), and
    null otherwise: the pair scope keeps no latency buckets (memory budget)."""
    other = FRONTEND if kind == BACKEND else BACKEND
    known, minutes = await reader.names_and_active_minutes(redis, [kind], window.minute_starts())
    names = [only] if only else known[0]

    def pair(name: str) -> tuple[str, str]:
        return (PAIR, pair_name(name, across) if kind == FRONTEND else pair_name(across, name))

    scopes = [pair(n) for n in names]
    own = [(kind, n) for n in names]
    data = await reader.read_named(redis, scopes + [(other, across)] + own, minutes,
                                   counts_only=frozenset(scopes + [(other, across)]), active=True)
    rows = []
    for name in names:
        part, whole = data[pair(name)], data[(kind, name)]
        if part.requests == 0:
            continue
        exact = part.requests == whole.requests
        row = _named_row(name, whole if exact else reader.NamedWindow(
            part.requests, part.errors_5xx, retries=part.retries, redispatches=part.redispatches,
            client_aborts=part.client_aborts))
        if kind == BACKEND:
            row["servers"] = []
        rows.append(row)
    rows.sort(key=lambda r: (-r["requests"], r["name"]))
    return rows


async def _backends_and_servers(
    redis: Store, names: list[str], server_names: list[str], minutes: list[int]
) -> tuple[dict[tuple[str, str], reader.NamedWindow], dict[str, dict[str, reader.NamedWindow]]]:
    """Every line of a backend also lands in exactly one of its backend/server scopes, so when its
    servers' requests add up to the backend's, the backend's latency buckets are their sum and need
    not be read. They do not when some servers were counted under `__other__` (over the server name
    cap; such servers belong to no single backend and are left out of `servers`): then the
    backend's own buckets are read in a second round trip. `minutes`: those holding data."""
    per_backend: dict[str, list[str]] = {n: [] for n in names}
    for full in server_names:
        backend, slash, _server = full.partition("/")
        if slash and backend in per_backend:
            per_backend[backend].append(full)
    backend_scopes = [(BACKEND, n) for n in names]
    data = await reader.read_named(redis, backend_scopes + [(SERVER, f) for g in per_backend.values() for f in g],
                                   minutes, counts_only=frozenset(backend_scopes), active=True)
    servers = {n: {full: data[(SERVER, full)] for full in per_backend[n]} for n in names}
    incomplete = []
    for name in names:
        total = data[(BACKEND, name)]
        parts = servers[name].values()
        if sum(w.requests for w in parts) != total.requests:
            incomplete.append((BACKEND, name))
            continue
        merged: dict[int, int] = {}
        for w in parts:
            for k, c in w.buckets.items():
                merged[k] = merged.get(k, 0) + c
        total.buckets = merged
    if incomplete:
        data.update(await reader.read_named(redis, incomplete, minutes, active=True))
    return data, servers


async def saturation(redis: Store, window: Window, scope: tuple[str, str]) -> dict[str, Any]:
    info = await server_info(redis)
    used = int(info.get("used_memory", 0))
    maxmem = int(info.get("maxmemory", 0))
    data = await _window_data(redis, window, scope)

    def peak(name: str) -> int:
        return max((d.maxima.get(name, 0) for d in data), default=0)

    return {
        "window_seconds": window.seconds,
        "redis": {"used_memory_bytes": used, "maxmemory_bytes": maxmem,
                  "memory_pct": round(100.0 * used / maxmem, 3) if maxmem else None,
                  "connected_clients": int(info.get("connected_clients", 0)),
                  "blocked_clients": int(info.get("blocked_clients", 0)),
                  "rejected_connections": int(info.get("rejected_connections", 0)),
                  "evicted_keys": int(info.get("evicted_keys", 0))},
        "haproxy": {"max_actconn": peak("ac"), "max_srv_conn": peak("sc"), "max_srv_queue": peak("sq"),
                    "max_backend_queue": peak("bq"), "queued_requests": _total(data, "qd"),
                    "retries": _total(data, "rt")},
    }

"""First bad minute in the golden signals before an alert: where the incident's clock starts.

Pure part: `first_bad_minute(minutes)` walks back from the alert through the contiguous run of bad
minutes (one good minute inside the run is tolerated). I/O part: one 1-minute overview and one
response-times query per minute of the look-back, concurrency-bounded, with timeouts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from oncall_common.request_id import async_client

LOOKBACK_MINUTES = 30
CONCURRENCY = 6


@dataclass(frozen=True)
class MinuteSignal:
    minute: datetime  # start of the minute
    requests: int
    error_5xx_pct: float
    p95_ms: float | None


@dataclass(frozen=True)
class BadThresholds:
    error_5xx_pct: float = 5.0
    p95_ms: float = 500.0
    min_requests: int = 1


def is_bad(signal: MinuteSignal, limits: BadThresholds) -> bool:
    if signal.requests < limits.min_requests:
        return False
    return signal.error_5xx_pct >= limits.error_5xx_pct or (signal.p95_ms or 0.0) >= limits.p95_ms


def first_bad_minute(minutes: list[MinuteSignal], limits: BadThresholds) -> datetime | None:
    """`minutes` in time order, ending at the alert's minute."""
    bad = [is_bad(m, limits) for m in minutes]
    last = max((i for i, b in enumerate(bad) if b), default=None)
    if last is None:
        return None
    first = last
    i = last - 1
    while i >= 0:
        if bad[i]:
            first = i
        elif not (i > 0 and bad[i - 1]):
            break
        i -= 1
    return minutes[first].minute


def floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


async def fetch_minutes(
    base_url: str,
    *,
    alert_at: datetime,
    backend: str | None,
    frontend: str | None,
    timeout_s: float = 5.0,
    lookback: int = LOOKBACK_MINUTES,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[MinuteSignal]:
    """One MinuteSignal per minute from alert − lookback to the alert's minute. Raises httpx
    errors when the ingestion-service cannot answer."""
    last = floor_minute(alert_at)
    starts = [last - timedelta(minutes=n) for n in range(lookback, -1, -1)]
    scope = {k: v for k, v in (("backend", backend), ("frontend", frontend)) if v}
    limiter = asyncio.Semaphore(CONCURRENCY)
    async with async_client(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport) as http:

        async def one(start: datetime) -> MinuteSignal:
            params = {"window": "1m", "end": (start + timedelta(minutes=1)).isoformat(), **scope}
            async with limiter:
                overview = await http.get("/metrics/overview", params=params)
                overview.raise_for_status()
                times = await http.get("/metrics/response-times", params=params)
                times.raise_for_status()
            o, t = overview.json(), times.json()
            return MinuteSignal(
                minute=start,
                requests=int(o.get("total_requests") or 0),
                error_5xx_pct=float(o.get("error_rate_5xx_pct") or 0.0),
                p95_ms=t.get("p95_ms"),
            )

        return list(await asyncio.gather(*(one(s) for s in starts)))

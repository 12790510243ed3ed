"""Golden signals now, per backend: the last minutes from the ingestion client the agent has
(I/O here; the charts are charts.py's, the arithmetic plain)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup

from agent_service.console.charts import sparkline
from agent_service.ingestion_client import IngestionClient, ScopeStats

MINUTES = 15
MAX_BACKENDS = 8
WINDOW = "5m"


@dataclass(frozen=True)
class BackendSignals:
    stats: ScopeStats
    queued: int | None  # requests that waited in a queue (server or backend) in the window
    max_queue: int | None  # the longest queue seen, server or backend
    requests_chart: Markup
    errors_chart: Markup
    p95_chart: Markup


def longest(*queues: int | None) -> int | None:
    known = [q for q in queues if q is not None]
    return max(known) if known else None


def current_minute(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(second=0, microsecond=0)


async def backend_signals(ingestion: IngestionClient, stats: ScopeStats, *, now: datetime,
                          error_pct: float, p95_ms: float) -> BackendSignals:
    last = current_minute(now)
    minutes, saturation = await asyncio.gather(
        ingestion.minute_signals(last=last, minutes=MINUTES - 1, backend=stats.name, frontend=None, concurrency=4),
        ingestion.saturation(window=WINDOW, backend=stats.name),
    )
    name = stats.name
    return BackendSignals(
        stats=stats,
        queued=saturation.haproxy.queued_requests,
        max_queue=longest(saturation.haproxy.max_srv_queue, saturation.haproxy.max_backend_queue),
        requests_chart=sparkline([m.requests for m in minutes], label=f"{name} requests per minute"),
        errors_chart=sparkline([m.error_5xx_pct if m.requests else None for m in minutes],
                               label=f"{name} 5xx per minute", unit=" %", bad_above=error_pct),
        p95_chart=sparkline([m.p95_ms for m in minutes], label=f"{name} p95 per minute", unit=" ms", bad_above=p95_ms),
    )


async def golden_signals(ingestion: IngestionClient, *, now: datetime, error_pct: float,
                         p95_ms: float) -> list[BackendSignals]:
    """The busiest MAX_BACKENDS backends of the last WINDOW, each with its last MINUTES minutes."""
    listed = await ingestion.backends(window=WINDOW)
    busiest = sorted(listed.backends, key=lambda b: b.requests, reverse=True)[:MAX_BACKENDS]
    return list(await asyncio.gather(*(backend_signals(ingestion, b, now=now, error_pct=error_pct, p95_ms=p95_ms)
                                       for b in busiest)))

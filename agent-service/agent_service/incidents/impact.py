"""First bad minute in the golden signals before an alert: where the incident's clock starts.

Pure part: `first_bad_minute(minutes)` walks back from the alert through the contiguous run of bad
minutes (one good minute inside the run is tolerated). I/O part: one 1-minute overview and one
response-times query per minute of the look-back (IngestionClient.minute_signals).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent_service.ingestion_client import IngestionClient, MinuteSignal

LOOKBACK_MINUTES = 30
CONCURRENCY = 6


@dataclass(frozen=True)
class BadThresholds:
    """A minute is bad above these (ERROR_5XX_WARNING_PCT, LATENCY_P95_WARNING_MS: built from
    Settings in app.py, no defaults of their own)."""

    error_5xx_pct: float
    p95_ms: float
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
    ingestion: IngestionClient, *, alert_at: datetime, backend: str | None, frontend: str | None,
    lookback: int = LOOKBACK_MINUTES,
) -> list[MinuteSignal]:
    """The minutes from alert − lookback to the alert's minute (raises IngestionError)."""
    return await ingestion.minute_signals(last=floor_minute(alert_at), minutes=lookback,
                                          backend=backend, frontend=frontend, concurrency=CONCURRENCY)

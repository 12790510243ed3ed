"""Analysis windows: the one place a window is parsed ("15m", "2h"), formatted and turned into
the report's `Window` (start, end, seconds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent_service.models import Window

WINDOW_PATTERN = r"^\d{1,4}[mh]$"  # the text form every window argument takes
MAX_MINUTES = 24 * 60
INCIDENT_LEAD_MINUTES = 5  # an incident's analysis starts this long before its alert
INCIDENT_MIN_MINUTES = 5
DEFAULT_WINDOW = "15m"


def window_minutes(window: str) -> int:
    """"15m" → 15, "2h" → 120 (the text already matched WINDOW_PATTERN)."""
    value = int(window[:-1])
    return value * 60 if window.endswith("h") else value


def format_minutes(minutes: int) -> str:
    return f"{minutes}m"


def report_window(window: str, end: datetime | None, *, now: datetime | None = None) -> Window:
    """The minutes a report covers: `window` long, ending at `end` (default now; naive = UTC)."""
    end = end or now or datetime.now(UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    seconds = window_minutes(window) * 60
    return Window(start=end - timedelta(seconds=seconds), end=end, seconds=seconds)


def alert_baseline_end(detected_at: datetime | None, lookback_s: float) -> datetime | None:
    """Where an alert's baseline ends: its startsAt minus the rule's look-back (the problem began
    about then), so the incident is compared with the time before it, not with itself."""
    return None if detected_at is None else detected_at - timedelta(seconds=lookback_s)


def incident_window(detected_at: datetime | None, now: datetime) -> str:
    """From a few minutes before the alert started to now, in whole minutes (5m…24h); the last
    15 minutes (as POST /analyze) for an incident without an alert (opened by hand)."""
    if detected_at is None:
        return DEFAULT_WINDOW
    start = detected_at - timedelta(minutes=INCIDENT_LEAD_MINUTES)
    minutes = int((now - start).total_seconds() // 60) + 1
    return format_minutes(min(max(minutes, INCIDENT_MIN_MINUTES), MAX_MINUTES))

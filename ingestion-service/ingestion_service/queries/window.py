"""`window` (1m..24h) and `end` (RFC 3339) → the whole minutes a query reads."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

_WINDOW = re.compile(r"^(\d{1,4})([mh])$")
MAX_MINUTES = 24 * 60
EARLIEST_END = 946684800.0  # 2000-01-01T00:00:00Z: no log line we keep is older
MAX_AHEAD_SECONDS = 86400  # a day ahead covers any clock skew; beyond it a query is a mistake


class InvalidQuery(ValueError):
    """→ 422 with this message, about query parameter `param`."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def parse_window(text: str, *, param: str = "window") -> int:
    """Minutes in `text` (`5m`, `1h`, `24h`); `param` names the query parameter in errors."""
    m = _WINDOW.match(text.strip())
    if not m:
        raise InvalidQuery(param, f"{param} must look like 5m or 2h (1m to 24h), got {text[:20]!r}")
    minutes = int(m.group(1)) * (60 if m.group(2) == "h" else 1)
    if not 1 <= minutes <= MAX_MINUTES:
        raise InvalidQuery(param, f"{param} must be between 1m and 24h, got {text!r}")
    return minutes


def parse_end(text: str | None, *, now: float | None = None, param: str = "end") -> float:
    if text is None or text == "":
        return time.time() if now is None else now
    try:
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise InvalidQuery(param, f"{param} must be an RFC 3339 time such as 2026-11-22T14:05:00Z, "
                           f"got {text[:40]!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    reason = f"{param} must be between 2000-01-01T00:00:00Z and one day from now, got {text[:40]!r}"
    try:
        end = parsed.timestamp()
    except (OverflowError, ValueError) as exc:  # 0001-01-01 shifted by its offset leaves the calendar
        raise InvalidQuery(param, reason) from exc
    current = time.time() if now is None else now
    if end < EARLIEST_END or end > current + MAX_AHEAD_SECONDS:
        raise InvalidQuery(param, reason)
    return end


@dataclass(frozen=True)
class Window:
    minutes: int
    end: float

    @property
    def seconds(self) -> int:
        return self.minutes * 60

    def minute_starts(self) -> list[int]:
        """Epoch seconds of the minutes in the window; the last one is the minute holding `end`
        (a window ending exactly on a minute boundary stops before that minute)."""
        last = (math.ceil(self.end / 60) - 1) * 60
        return [last - 60 * i for i in range(self.minutes - 1, -1, -1)]

    @property
    def start(self) -> float:
        """Start of the first whole minute read (the span read is [start, start + seconds))."""
        return float(self.minute_starts()[0])

    def previous(self) -> Window:
        return Window(self.minutes, self.end - self.seconds)


def window_from(window: str, end: str | None, *, now: float | None = None) -> Window:
    return Window(parse_window(window), parse_end(end, now=now))

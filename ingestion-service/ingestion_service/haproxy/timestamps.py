"""HAProxy accept dates (`22/Nov/2026:14:03:17.032`) to epoch seconds, cached per minute."""

from __future__ import annotations

import calendar

MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)}
_MINUTES: dict[str, int] = {}
_CACHE_LIMIT = 4096


def minute_epoch(prefix: str) -> int | None:
    """`dd/Mon/yyyy:hh:mm` → epoch seconds of that minute (UTC), None when not a date."""
    cached = _MINUTES.get(prefix)
    if cached is not None:
        return cached
    if len(prefix) != 17 or prefix[2] != "/" or prefix[6] != "/" or prefix[11] != ":" or prefix[14] != ":":
        return None
    month = MONTHS.get(prefix[3:6])
    digits = prefix[0:2] + prefix[7:11] + prefix[12:14] + prefix[15:17]
    if month is None or not digits.isascii() or not digits.isdigit():
        return None
    day, year, hour, minute = int(prefix[0:2]), int(prefix[7:11]), int(prefix[12:14]), int(prefix[15:17])
    if not (1 <= day <= calendar.monthrange(year, month)[1] and hour < 24 and minute < 60 and year >= 1970):
        return None
    value = calendar.timegm((year, month, day, hour, minute, 0))
    if len(_MINUTES) >= _CACHE_LIMIT:
        _MINUTES.clear()
    _MINUTES[prefix] = value
    return value


def accept_date(text: str) -> float | None:
    """`dd/Mon/yyyy:hh:mm:ss.mmm` (milliseconds optional) → epoch seconds."""
    base = minute_epoch(text[:17])
    if base is None or len(text) < 20 or text[17] != ":":
        return None
    sec = text[18:20]
    if not (sec.isascii() and sec.isdigit()) or int(sec) > 60:
        return None
    if len(text) == 20:
        return float(base + int(sec))
    frac = text[21:]
    if text[20] != "." or not frac or not (frac.isascii() and frac.isdigit()) or len(frac) > 6:
        return None
    return base + int(sec) + int(frac) / (10 ** len(frac))


def format_accept_date(epoch_ms: int) -> str:
    """Inverse of accept_date, for generators and tests."""
    import time

    t = time.gmtime(epoch_ms // 1000)
    month = list(MONTHS)[t.tm_mon - 1]
    return (f"{t.tm_mday:02d}/{month}/{t.tm_year:04d}:{t.tm_hour:02d}:{t.tm_min:02d}:"
            f"{t.tm_sec:02d}.{epoch_ms % 1000:03d}")

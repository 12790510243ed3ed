"""Local accept dates → UTC: an offset from the syslog header wins, else the configured zone."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_NAMES = frozenset({"UTC", "Etc/UTC", "utc", "Z", "GMT", "Etc/GMT"})


def valid_zone(name: str) -> str:
    """`name` when it is an IANA zone known here; ValueError otherwise (settings fail fast)."""
    if name in UTC_NAMES:
        return name
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Europe/Paris)") from exc
    return name


@lru_cache(maxsize=8192)
def local_minute_to_utc(naive_minute: int, zone: str) -> int:
    """A minute read as if UTC (`naive_minute`) but written in `zone` → its true epoch seconds."""
    if zone in UTC_NAMES:
        return naive_minute
    local = datetime.fromtimestamp(naive_minute, timezone.utc).replace(tzinfo=ZoneInfo(zone))
    return int(local.timestamp())


def offset_seconds(text: str) -> int | None:
    """`Z`, `+02:00`, `-0500` → seconds east of UTC; None when not an offset."""
    if text in ("Z", "z"):
        return 0
    if len(text) not in (5, 6) or text[0] not in "+-":
        return None
    digits = text[1:].replace(":", "")
    if len(digits) != 4 or not digits.isdigit():
        return None
    value = int(digits[:2]) * 3600 + int(digits[2:]) * 60
    return -value if text[0] == "-" else value

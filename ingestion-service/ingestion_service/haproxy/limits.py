"""The ranges a parsed line's numbers must lie in, from the types HAProxy logs them with.

- Timers (TR, Tw, Tc, Tr, Ta, Tt) and bytes: 64-bit in HAProxy (`long` milliseconds, `long long`
  bytes), -1 for a timer HAProxy did not reach. Capped at 2^53 - 1 (285,000 years; 8 PiB in one
  request): every integer up to there is exact as a Lua number (a double), which the store's
  scripts compare (maxima), and as a JSON number in any client. Their per-minute sums in Redis
  (HINCRBY, 64-bit) saturate at 2^63 - 1 instead of failing (lua/write_scope.lua).
- actconn, feconn, beconn, srv_conn, srv_queue, backend_queue: `unsigned int` counters (0 … 2^32 - 1).
- retries: HAProxy's `int` retry count (0 … 2^31 - 1).

A line outside these is rejected with the reason, before anything of its batch is written.
"""

from __future__ import annotations

from ingestion_service.haproxy.models import LogEntry

EXACT_MAX = 2**53 - 1
TIMER = (-1, EXACT_MAX)
BYTES = (0, EXACT_MAX)
COUNTER = (0, 2**32 - 1)
RETRIES = (0, 2**31 - 1)

# LogEntry field → (lowest, highest)
RANGES: tuple[tuple[str, tuple[int, int]], ...] = (
    ("response_time_ms", TIMER), ("time_request_ms", TIMER), ("time_queue_ms", TIMER),
    ("time_connect_ms", TIMER), ("time_response_ms", TIMER), ("bytes_read", BYTES),
    ("actconn", COUNTER), ("feconn", COUNTER), ("beconn", COUNTER), ("srv_conn", COUNTER),
    ("retries", RETRIES), ("srv_queue", COUNTER), ("backend_queue", COUNTER),
)
_POSITIONS = tuple((LogEntry._fields.index(name), name, low, high) for name, (low, high) in RANGES)
STORED_TEXT = ("frontend", "backend", "server", "termination_state")


def out_of_range(entry: LogEntry) -> str | None:
    """Why `entry` cannot be stored, or None."""
    for pos, name, low, high in _POSITIONS:
        v = entry[pos]
        if not low <= v <= high:
            digits = str(v)
            shown = digits if len(digits) <= 24 else f"a {len(digits)}-digit number"
            return f"{name} {shown} outside HAProxy's range [{low}, {high}]"
    for name in STORED_TEXT:
        text = getattr(entry, name)
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return f"{name} is not valid Unicode (a lone surrogate)"
    return None

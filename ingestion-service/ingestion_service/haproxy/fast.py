"""Bulk path: one compiled regex over a whole text body, one tuple of raw fields per line.

Lines the regex does not take (syslog state messages, damaged lines, unusual headers) come back
as their raw text and go through `parse_line`, which gives the reason. The regex is as strict as
`parse_line` for every field it captures, so both paths count a valid line the same way.
"""

from __future__ import annotations

import re

# Groups: minute, second, frontend, backend, server, Tw, Ta, status, bytes, term state,
# actconn, srv_conn, retries, srv_queue, backend_queue, [fallback: the whole line].
BULK = re.compile(
    r"^(?:[^ \n]* ){0,8}?\S+ \[(\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d):(\d\d)(?:\.\d{1,6})?\] (\S+) ([^/\s]+)/(\S+) "
    r"-?\d+/(-?\d+)/-?\d+/-?\d+/\+?(-?\d+) (-?\d+) \+?(\d+) \S+ \S+ (\S\S\S\S|-) "
    r"(\d+)/\d+/\d+/(\d+)/\+?(\d+) (\d+)/(\d+)(?: [^\n]*)?$|^([^\n]*)",
    re.ASCII | re.MULTILINE,
)
FALLBACK = 15


def scan(text: str) -> list[tuple[str, ...]]:
    """One tuple per line of `text` (line i+1 is element i)."""
    return BULK.findall(text)

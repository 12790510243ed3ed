"""Bulk path: one compiled regex over a whole text body, one tuple of raw fields per line.

Lines the regex does not take (syslog state messages, damaged lines, unusual headers) come back
as their raw text and go through `parse_line`, which gives the reason. The regex is as strict as
`parse_line` for every field it captures, so both paths count a valid line the same way.
"""

from __future__ import annotations

import re

# Groups: minute, second, frontend, backend, server, Tw, Tc, Tr, Ta, status, bytes, term state,
# "actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue" (one string: few distinct values
# per group, split once per distinct value), [fallback: the whole line].
# The header comes first as the usual RFC 3164 shape (`<PRI>Mmm dd hh:mm:ss tag: `, a tag not starting
# with `[`, so no earlier ` [` can be an accept date), else as up to 8 tokens, lazily. Seconds above 60
# are left to `parse_line`, which rejects them; so are statuses outside 100-599 (and -1), headers
# whose timestamp carries a UTC offset (`parse_line` applies it), and numbers with more digits than
# always fit HAProxy's ranges (haproxy/limits.py: 15 for timers and bytes, 9 for counters):
# `parse_line` takes those within range and rejects the rest with the reason.
BULK = re.compile(
    r"^(?:<\d{1,3}>[A-Z][a-z][a-z] [ \d]\d \d\d:\d\d:\d\d [^ \n\[][^ \n]* |(?:(?![^ \n]*\d[+-]\d\d:?\d\d )[^ \n]* ){0,8}?)"
    r"\S+ \[(\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d):([0-5]\d|60)(?:\.\d{1,6})?\] (\S+) ([^/\s]+)/(\S+) "
    r"(?:-1|\d{1,15})/(-1|\d{1,15})/(-1|\d{1,15})/(-1|\d{1,15})/\+?(-1|\d{1,15}) (-1|[1-5]\d\d) \+?(\d{1,15}) "
    r"\S+ \S+ (\S\S\S\S|-) (\d{1,9}/\d{1,9}/\d{1,9}/\d{1,9}/\+?\d{1,9} \d{1,9}/\d{1,9})(?: [^\n]*)?$|^([^\n]*)",
    re.ASCII | re.MULTILINE,
)
FALLBACK = 13


def scan(text: str) -> list[tuple[str, ...]]:
    """One tuple per line of `text` (line i+1 is element i)."""
    return BULK.findall(text)

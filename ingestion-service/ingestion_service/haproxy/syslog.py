"""Strip syslog headers (RFC 3164 / RFC 5424) from a line, leaving HAProxy's message."""

from __future__ import annotations

import re

_PRI = re.compile(r"<\d{1,3}>")
_RFC5424 = re.compile(r"1 \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: |$)")
_RFC3164_DATE = re.compile(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ")
_TAG = re.compile(r"(?:\S+ )?[\w.\-/]{1,48}(?:\[\d+\])?: ")
_BARE_TAG = re.compile(r"[\w.\-/]{1,48}\[\d+\]: ")


def strip_header(line: str) -> str:
    """The message part of `line`; unchanged when there is no syslog header."""
    pos = 0
    m = _PRI.match(line)
    if m:
        pos = m.end()
        m5 = _RFC5424.match(line, pos)
        if m5:
            return line[m5.end():].lstrip("\ufeff")
    m = _RFC3164_DATE.match(line, pos)
    if m:
        pos = m.end()
        tag = _TAG.match(line, pos)
        return line[tag.end():] if tag else line[pos:]
    tag = _BARE_TAG.match(line, pos)
    if tag:
        return line[tag.end():]
    return line[pos:]

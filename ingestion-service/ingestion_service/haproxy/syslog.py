"""Strip syslog headers (RFC 3164 / RFC 5424 / ISO / short / priority only) from a line, leaving
HAProxy's message and the UTC offset the header's timestamp carries (None when it carries none)."""

from __future__ import annotations

import re

from ingestion_service.haproxy.zones import offset_seconds

_PRI = re.compile(r"<\d{1,3}>")
_RFC5424 = re.compile(r"1 (\S+) \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: |$)")
_RFC3164_DATE = re.compile(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(Z|[+-]\d\d:?\d\d)? ")
_TAG = re.compile(r"(?:\S+ )?[\w.\-/]{1,48}(?:\[\d+\])?: ")
_BARE_TAG = re.compile(r"[\w.\-/]{1,48}\[\d+\]: ")


def split_header(line: str) -> tuple[str, int | None]:
    """(message, header offset in seconds east of UTC or None)."""
    pos = 0
    m = _PRI.match(line)
    if m:
        pos = m.end()
        m5 = _RFC5424.match(line, pos)
        if m5:
            stamp = m5.group(1)
            return line[m5.end():].lstrip("\ufeff"), _stamp_offset(stamp)
    m = _RFC3164_DATE.match(line, pos)
    offset = None
    if m is None:
        m = _ISO_DATE.match(line, pos)
        if m is not None and m.group(1):
            offset = offset_seconds(m.group(1))
    if m:
        pos = m.end()
        tag = _TAG.match(line, pos)
        return (line[tag.end():] if tag else line[pos:]), offset
    tag = _BARE_TAG.match(line, pos)
    if tag:
        return line[tag.end():], None
    return line[pos:], None


def _stamp_offset(stamp: str) -> int | None:
    if stamp == "-" or len(stamp) < 20:
        return None
    if stamp.endswith(("Z", "z")):
        return 0
    return offset_seconds(stamp[-6:])


def strip_header(line: str) -> str:
    """The message part of `line`; unchanged when there is no syslog header."""
    return split_header(line)[0]

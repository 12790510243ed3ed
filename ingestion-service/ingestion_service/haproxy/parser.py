"""HAProxy 2.x `option httplog` lines → LogEntry, split-based (no regex on the hot path).

Layout after any syslog header (RFC 3164, RFC 5424 or none):
  client:port [accept_date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes
  req_cookie res_cookie term_state actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue
  [{captured request headers}] [{captured response headers}] "request line"
The request is found by the accept date ` [dd/Mon/yyyy:`, so whatever header precedes it is ignored.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from ingestion_service.haproxy.fields import check, entry_from_fields, entry_from_layout, frontend_name
from ingestion_service.haproxy.logformat import BUILTIN, CompiledFormat, compile_format
from ingestion_service.haproxy.models import DEFAULT_OPTIONS, LogEntry, ParseError, ParseOptions, ParseResult, Skip
from ingestion_service.haproxy.syslog import split_header
from ingestion_service.haproxy.timestamps import minute_epoch
from ingestion_service.haproxy.zones import UTC_NAMES, local_minute_to_utc

# Messages HAProxy logs that are not requests.
_NON_REQUEST_PREFIXES = (
    "Server ", "Backup Server ", "backend ", "Proxy ", "proxy ", "Stopping ", "Pausing ",
    "Resuming ", "Health check", "Agent check", "Connect from ", "[WARNING]", "[ALERT]",
    "[NOTICE]", "Loading ", "Starting ", "frontend ", "Frontend ", "HAProxy ", "haproxy ",
    "Stats ", "Disabling ", "Enabling ",
)


def find_request_start(line: str) -> tuple[int, int]:
    """(start of the client address, position of ` [`) or (-1, -1) when no accept date."""
    idx = line.find(" [")
    while idx != -1:
        if line[idx + 4:idx + 5] == "/" and line[idx + 8:idx + 9] == "/":
            return line.rfind(" ", 0, idx) + 1, idx
        idx = line.find(" [", idx + 2)
    if line.startswith("[") and line[3:4] == "/" and line[7:8] == "/":
        return 0, -1  # no client address (cannot be a request line)
    return -1, -1


@lru_cache(maxsize=8)
def formats(options: ParseOptions) -> tuple[CompiledFormat, ...]:
    """The layouts tried after httplog: the configured log-format first, then HAProxy's own."""
    own = (compile_format(options.log_format),) if options.log_format else ()
    return own + BUILTIN


def parse_line(line: str, options: ParseOptions = DEFAULT_OPTIONS) -> ParseResult:
    """Parse one log line; never raises."""
    try:
        line = line.strip()
        message, offset = split_header(line)
        if message.startswith("{"):
            return _json_message(message, offset, options)
        if options.log_format:
            found = _by_formats(message, offset, options)
            if found is not None:
                return found
        result = _parse(line)
        if type(result) is LogEntry:
            return check(_zoned(result, offset, options.timezone))
        if type(result) is ParseError or result.reason.startswith("tcplog"):
            found = _by_formats(message, offset, options)
            if found is not None:
                return found
        return result
    except (ValueError, IndexError, KeyError) as exc:
        return ParseError(f"malformed HAProxy httplog line ({exc.__class__.__name__}: {str(exc)[:60]})")


def _zoned(entry: LogEntry, offset: int | None, zone: str) -> LogEntry:
    """httplog's accept date was read as UTC: shift it by the header offset or the zone."""
    fe = frontend_name(entry.frontend)
    if offset is None and zone in UTC_NAMES:
        return entry if fe is entry.frontend else entry._replace(frontend=fe)
    minute = int(entry.timestamp // 60) * 60
    shifted = minute - offset if offset is not None else local_minute_to_utc(minute, zone)
    return entry._replace(timestamp=entry.timestamp - minute + shifted, frontend=fe)


def _by_formats(message: str, offset: int | None, options: ParseOptions) -> ParseResult | None:
    for fmt in formats(options):
        m = fmt.regex.match(message)
        if m is not None:
            return check(entry_from_fields(m.groupdict(), tcp=fmt.tcp, header_offset=offset,
                                           zone=options.timezone))
    return None


def _json_message(message: str, offset: int | None, options: ParseOptions) -> ParseResult:
    try:
        obj = json.loads(message)
    except (ValueError, RecursionError) as exc:
        return ParseError(f"message looks like JSON but is not: {str(exc)[:80]}")
    if not isinstance(obj, dict):
        return ParseError("JSON message must be an object")
    return check(entry_from_layout(obj, header_offset=offset, zone=options.timezone))


def _classify_non_request(line: str) -> Skip | ParseError:
    message = split_header(line)[0]
    if not message:
        return Skip("empty syslog message")
    if message.startswith(_NON_REQUEST_PREFIXES):
        return Skip("not a request: " + message[:40])
    return ParseError("not an HAProxy httplog line (no accept date [dd/Mon/yyyy:hh:mm:ss.mmm])")


_LINE = re.compile(
    r"(\S+) \[(\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d):(\d\d)(?:\.(\d{1,6}))?\] (\S+) ([^/\s]+)/(\S+) "
    r"(-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)/(\+?-?\d+) (-?\d+) (\+?\d+) \S+ \S+ (\S\S\S\S|-) "
    r"(\d+)/(\d+)/(\d+)/(\d+)/(\+?\d+) (\d+)/(\d+)(?: (.*))?$",
    re.ASCII,
)


def _parse(line: str) -> ParseResult:
    start, bracket = find_request_start(line)
    if bracket < 0:
        return _classify_non_request(line)
    m = _LINE.match(line, start)
    if m is None:
        return _diagnose(line[start:])
    (client, minute, sec, frac, frontend, backend, server, tr, tw, tc, tres, ta, status, nbytes,
     tstate, act, fe, be, srv, retries, srvq, beq, rest) = m.groups()
    base = minute_epoch(minute)
    if base is None or int(sec) > 60:
        return ParseError(f"invalid accept date {minute}:{sec}")
    timestamp = base + int(sec) + (int(frac) / 10 ** len(frac) if frac else 0)
    method, path, truncated = _request(rest or "")
    host, _, _port = client.rpartition(":")
    return LogEntry(
        timestamp, frontend, backend, server, int(status), int(ta), int(tr), int(tw), int(tc),
        int(tres), int(nbytes), tstate, int(act), int(fe), int(be), int(srv), int(retries),
        int(srvq), int(beq), method, path, host or client, ta[0] == "+" or nbytes[0] == "+",
        retries[0] == "+", truncated,
    )


def _diagnose(message: str) -> Skip | ParseError:
    """Why a line with an accept date is not a valid httplog line (slow path)."""
    tokens = message.split(" ", 12)
    if len(tokens) >= 3 and (tokens[2].endswith(":") or (len(tokens) > 3 and tokens[3].endswith(":"))):
        return Skip("connection-level message, not a request")
    if len(tokens) >= 5 and tokens[4].count("/") == 2 and len(tokens) < 12:
        return Skip("tcplog line (not http)")
    if len(tokens) < 12:
        return ParseError(f"expected at least 12 fields after the syslog header, found {len(tokens)}")
    for i, tok in enumerate(tokens[:12]):
        if not _PREFIXES[i].match(" ".join(tokens[: i + 1])):
            return ParseError(f"invalid {_FIELD_NAMES[i]} {tok[:40]!r}")
    return ParseError("malformed HAProxy httplog line")


_FIELD_NAMES = (
    "client", "accept date", "frontend", "backend/server", "timers TR/Tw/Tc/Tr/Ta", "status",
    "bytes", "request cookie", "response cookie", "termination state",
    "actconn/feconn/beconn/srv_conn/retries", "srv_queue/backend_queue",
)
_PARTS = (
    r"\S+", r"\[\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d:\d\d(?:\.\d{1,6})?\]", r"\S+", r"[^/\s]+/\S+",
    r"-?\d+/-?\d+/-?\d+/-?\d+/\+?-?\d+", r"-?\d+", r"\+?\d+", r"\S+", r"\S+", r"(?:\S\S\S\S|-)",
    r"\d+/\d+/\d+/\d+/\+?\d+", r"\d+/\d+",
)
_PREFIXES = [re.compile(" ".join(_PARTS[: i + 1]) + "$", re.ASCII) for i in range(len(_PARTS))]


def _request(rest: str) -> tuple[str, str, bool]:
    """Method, path and whether the request line was cut, from `{hdrs} {hdrs} "GET / HTTP/1.1"`."""
    quote = rest.find('"')
    if quote < 0:
        return "", "", False
    end = rest.find('"', quote + 1)  # HAProxy writes a quote inside %r as #22: the next one closes it
    truncated = end < 0
    request = rest[quote + 1:] if truncated else rest[quote + 1:end]
    method, _, tail = request.partition(" ")
    path = tail.split(" ", 1)[0] if tail else ""
    return method, path, truncated

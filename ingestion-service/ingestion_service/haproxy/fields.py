"""Named fields (from a compiled log-format, or HAProxy's JSON layout) → LogEntry; and the checks
every parsed line passes: names as configured, HAProxy's internal clients, the status range."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingestion_service.haproxy.limits import out_of_range
from ingestion_service.haproxy.models import LogEntry, ParseError, Skip
from ingestion_service.haproxy.timestamps import MONTHS, accept_date
from ingestion_service.haproxy.zones import local_minute_to_utc, offset_seconds

# Applets and internal clients HAProxy logs as if they were traffic (not the site's requests).
INTERNAL = frozenset({"<STATS>", "<PROMEX>", "<OCSP-UPDATE>", "<HTTPCLIENT>", "<PEERS>", "<SPOE>",
                      "<LUA>", "<CLI>", "<DNS>"})
# HAProxy's JSON layout (`%{+json}o`, HAProxy 3.0+) → the contract's names.
JSON_LAYOUT = {"client_ip": "client", "request_date": "date", "fe_name_transport": "frontend",
               "fe_name": "frontend", "be_name": "backend", "server_name": "server", "time_request": "tr",
               "time_wait": "tw", "time_connect": "tc", "time_response": "tres", "time_active": "ta",
               "status_code": "status", "bytes_read": "bytes", "termination_state_cookie": "term",
               "termination_state": "term", "actconn": "actconn", "feconn": "feconn", "beconn": "beconn",
               "srv_conn": "srv_conn", "retries": "retries", "srv_queue": "srv_queue",
               "backend_queue": "backend_queue", "http_request": "request"}


def frontend_name(name: str) -> str:
    """`fe_https~` (HAProxy marks SSL frontends) → `fe_https`, as the configuration spells it."""
    return name[:-1] if name.endswith("~") and len(name) > 1 else name


def check(entry: LogEntry) -> LogEntry | Skip | ParseError:
    """The verdict on a parsed line, shared by every layout (numbers in HAProxy's ranges: limits.py)."""
    status = entry.status_code
    if status != -1 and not 100 <= status <= 599:
        return ParseError(f"invalid status {status} (HTTP status 100-599, or -1)")
    if entry.server in INTERNAL or entry.frontend in INTERNAL or entry.backend in INTERNAL:
        return Skip("HAProxy internal client, not site traffic: "
                    + next(n for n in (entry.server, entry.frontend, entry.backend) if n in INTERNAL))
    reason = out_of_range(entry)
    return entry if reason is None else ParseError(reason)


def to_utc(date: str, header_offset: int | None, zone: str) -> float:
    """An accept date (`dd/Mon/yyyy:hh:mm:ss[.mmm][ +hhmm]`) → epoch seconds UTC."""
    own_offset = None
    if " " in date:
        date, _, off = date.partition(" ")
        own_offset = offset_seconds(off)
        if own_offset is None:
            raise ValueError(f"invalid accept date offset {off!r}")
    naive = accept_date(date)
    if naive is None:
        raise ValueError(f"invalid accept date {date[:40]!r}")
    offset = own_offset if own_offset is not None else header_offset
    if offset is not None:
        return naive - offset
    minute = int(naive // 60) * 60
    return local_minute_to_utc(minute, zone) + (naive - minute)


def _int(d: Mapping[str, Any], name: str, default: int) -> int:
    v = d.get(name)
    if v is None or v == "" or v == "-":
        return default
    if isinstance(v, bool):
        raise ValueError(f"{name} must be a number")
    return int(str(v).lstrip("+")) if isinstance(v, str) else int(v)


def entry_from_fields(d: Mapping[str, Any], *, tcp: bool, header_offset: int | None, zone: str) -> LogEntry:
    """Named fields (strings from a regex, or JSON values) → LogEntry; ValueError when invalid."""
    date = str(d.get("date") or "")
    if len(date) >= 20 and date[2:3] == "/" and date[3:6] in MONTHS:
        ts = to_utc(date, header_offset, zone)
        if d.get("ms") is not None and "." not in date:
            ts += int(d["ms"]) / 1000
    else:
        raise ValueError(f"invalid accept date {date[:40]!r}")
    frontend = frontend_name(str(d.get("frontend") or ""))
    backend, server = str(d.get("backend") or frontend), str(d.get("server") or "<NOSRV>")
    if not frontend:
        raise ValueError("no frontend")
    ta_raw = d.get("tt") if tcp or d.get("ta") is None else d.get("ta")
    logasap = isinstance(ta_raw, str) and ta_raw.startswith("+")
    nbytes = d.get("bytes")
    request = str(d.get("request") or "")
    method, _, rest = request.partition(" ")
    method = str(d.get("method") or method)
    path = str(d.get("path") or rest.split(" ", 1)[0])
    retries = d.get("retries")
    return LogEntry(
        ts, frontend, backend, server, -1 if tcp else int(d["status"]),
        _int(d, "tt" if tcp or d.get("ta") is None else "ta", -1),
        _int(d, "tr", -1), _int(d, "tw", -1), _int(d, "tc", -1), _int(d, "tres", -1), _int(d, "bytes", 0),
        str(d.get("term") or "----"), _int(d, "actconn", 0), _int(d, "feconn", 0), _int(d, "beconn", 0),
        _int(d, "srv_conn", 0), _int(d, "retries", 0), _int(d, "srv_queue", 0), _int(d, "backend_queue", 0),
        method if not tcp else "", path if not tcp else "", str(d.get("client") or ""),
        logasap or (isinstance(nbytes, str) and nbytes.startswith("+")),
        isinstance(retries, str) and retries.startswith("+"), False, tcp,
    )


def entry_from_layout(obj: Mapping[str, Any], *, header_offset: int | None, zone: str) -> LogEntry:
    """HAProxy's JSON layout (`client_ip`, `request_date`, `fe_name_transport`, …) → LogEntry."""
    fields = {JSON_LAYOUT[k]: v for k, v in obj.items() if k in JSON_LAYOUT}
    if "status" not in fields or "date" not in fields:
        raise ValueError("HAProxy JSON layout needs request_date and status_code")
    return entry_from_fields(fields, tcp=False, header_offset=header_offset, zone=zone)

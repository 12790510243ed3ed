"""JSON log entries (the contract's field names) → LogEntry, validated by hand (fast, clear reasons).

Beside the contract's fields, `redispatched` (bool, default false): HAProxy's `+` before retries."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from ingestion_service.haproxy.fields import check, entry_from_layout, frontend_name
from ingestion_service.haproxy.limits import EXACT_MAX
from ingestion_service.haproxy.models import LogEntry, ParseError, Skip

_REQUIRED_STR = ("frontend", "backend", "server")
_OPTIONAL_INT = {
    "time_request_ms": -1, "time_queue_ms": -1, "time_connect_ms": -1, "time_response_ms": -1,
    "bytes_read": 0, "actconn": 0, "feconn": 0, "beconn": 0, "srv_conn": 0, "retries": 0,
    "srv_queue": 0, "backend_queue": 0,
}
_OPTIONAL_STR = {"method": "", "path": "", "client_ip": "", "termination_state": "----"}


def _timestamp(value: Any) -> float:
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("timestamp must be an RFC 3339 string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    if not math.isfinite(value) or abs(value) > EXACT_MAX:
        raise ValueError(f"{name} out of range")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{name} must be an integer")
    return int(value)


def entry_from_json(obj: Any, zone: str = "UTC") -> LogEntry | Skip | ParseError:
    """The contract's entry, or HAProxy's own JSON layout (`request_date`, `fe_name_transport`, …)."""
    if not isinstance(obj, dict):
        return ParseError("entry must be a JSON object")
    if "timestamp" not in obj and "request_date" in obj:
        try:
            return check(entry_from_layout(obj, header_offset=None, zone=zone))
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            return ParseError(f"HAProxy JSON layout: {str(exc)[:200]}")
    try:
        missing = [f for f in ("timestamp", *_REQUIRED_STR, "status_code", "response_time_ms") if f not in obj]
        if missing:
            return ParseError("missing required field(s): " + ", ".join(missing))
        strings = {}
        for f in _REQUIRED_STR:
            v = obj[f]
            if not isinstance(v, str) or not v or len(v) > 256:
                return ParseError(f"{f} must be a non-empty string")
            strings[f] = v
        ta = obj["response_time_ms"]
        if isinstance(ta, bool) or not isinstance(ta, (int, float)) or not math.isfinite(ta) or ta < 0:
            return ParseError("response_time_ms must be a number >= 0")
        if ta > EXACT_MAX:
            return ParseError(f"response_time_ms above {EXACT_MAX} (HAProxy's range, kept exact)")
        ints = {f: _int(f, obj[f]) if obj.get(f) is not None else d for f, d in _OPTIONAL_INT.items()}
        texts = {}
        for f, d in _OPTIONAL_STR.items():
            v = obj.get(f)
            if v is not None and not isinstance(v, str):
                return ParseError(f"{f} must be a string")
            texts[f] = (v if v is not None else d)[:2048]
        term = texts["termination_state"]
        if not term or len(term) > 8 or any(ch.isspace() for ch in term):
            return ParseError("termination_state must be 1 to 8 characters without spaces")
        redispatched = obj.get("redispatched", False)
        if not isinstance(redispatched, bool):
            return ParseError("redispatched must be true or false")
        strings["frontend"] = frontend_name(strings["frontend"])
        return check(LogEntry(
            timestamp=_timestamp(obj["timestamp"]),
            status_code=_int("status_code", obj["status_code"]),
            response_time_ms=ta if type(ta) is int else math.floor(ta + 0.5),  # 12.5 ms → 13: stored as whole ms
            **strings, **ints, **texts, redispatched=redispatched,
        ))
    except (ValueError, TypeError, OverflowError) as exc:
        return ParseError(str(exc)[:200])

"""One scope's span (store.reader.SpanData) → the breakdown's `Stats` and `Minutes` (columns).

Pure: sums, maxima and per-minute values in, plain dicts out; quantiles come from the buckets
merged inside Redis.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ingestion_service.sketch import Sketch
from ingestion_service.store.reader import MinuteData, SpanData

QUANTILES = (("p50_ms", 0.5), ("p90_ms", 0.9), ("p95_ms", 0.95), ("p99_ms", 0.99))
# Stats field → counters field, summed over the span.
SUMS = (("requests", "n"), ("errors_4xx", "e4"), ("errors_5xx", "e5"), ("retries", "rt"),
        ("retried_requests", "rq"), ("redispatches", "rd"), ("queued", "qd"), ("client_aborts", "ca"))
MAXIMA = (("max_srv_queue", "sq"), ("max_backend_queue", "bq"), ("max_actconn", "ac"), ("max_srv_conn", "sc"))
# Minutes column → counters field; the reader adds the server failures after these.
COLUMNS = (("requests", "n"), ("errors_4xx", "e4"), ("errors_5xx", "e5"), ("retries", "rt"),
           ("redispatches", "rd"), ("queued", "qd"), ("client_aborts", "ca"))
FIELDS = tuple(f for _, f in COLUMNS) + ("ta", "ua", "tr", "ur")  # what the reader returns per minute
_TA, _UA, _TR, _UR = (FIELDS.index(f) for f in ("ta", "ua", "tr", "ur"))


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 3) if count > 0 else None


def prefixed(data: list[MinuteData], prefix: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in data:
        for name, v in d.sums.items():
            if name.startswith(prefix):
                out[name[len(prefix):]] = out.get(name[len(prefix):], 0) + v
    return dict(sorted(out.items()))


def _timer(span: SpanData, buckets: dict[int, int] | None, name: str, missing: str) -> dict[str, Any]:
    """count, quantiles (null without buckets), exact max and mean of one HAProxy timer."""
    count = span.sums.get("n", 0) - span.sums.get(missing, 0)
    s = Sketch(buckets or {})
    out: dict[str, Any] = {"count": count}
    for label, q in QUANTILES:
        v = s.quantile(q) if buckets is not None else None
        out[label] = None if v is None else round(v, 3)
    top = span.maxima.get(name)
    out["max_ms"] = float(top) if top is not None and count else None
    out["mean_ms"] = _mean(span.sums.get(name, 0), count)
    return out


def stats_of(span: SpanData, tr: dict[int, int] | None) -> dict[str, Any]:
    sums = span.sums
    out: dict[str, Any] = {name: sums.get(f, 0) for name, f in SUMS}
    out["status_codes"] = {k[2:]: v for k, v in sorted(sums.items()) if k.startswith("s:")}
    out["terminations"] = {k[2:]: v for k, v in sorted(sums.items()) if k.startswith("t:")}
    for name, f in MAXIMA:
        out[name] = span.maxima.get(f) if out["requests"] else None
    out["ta"] = _timer(span, span.buckets, "ta", "ua")
    out["tr"] = _timer(span, tr, "tr", "ur")
    tc_count = sums.get("n", 0) - sums.get("uc", 0)
    tc_max = span.maxima.get("tc")
    out["tc_mean_ms"] = _mean(sums.get("tc", 0), tc_count)
    out["tc_max_ms"] = float(tc_max) if tc_max is not None and tc_count else None
    out["tw_mean_ms"] = _mean(sums.get("tw", 0), sums.get("n", 0) - sums.get("uw", 0))
    return out


def minutes_of(starts: list[int], span: SpanData) -> dict[str, Any]:
    """Columns, one entry per minute (oldest first, zero-filled; means null without requests)."""
    rows = span.minutes
    out: dict[str, Any] = {"start": iso(starts[0]) if starts else None}
    for i, (name, _f) in enumerate(COLUMNS):
        out[name] = [r[i] for r in rows]
    out["server_failures"] = [r[-1] for r in rows]
    out["ta_mean_ms"] = [_mean(r[_TA], r[0] - r[_UA]) for r in rows]
    out["tr_mean_ms"] = [_mean(r[_TR], r[0] - r[_UR]) for r in rows]
    return out

"""Per-minute counters of one scope → the breakdown's `Stats` (a span) and `Minutes` (columns).

Pure: the counters hashes (store/keys.py) in, plain dicts out; quantiles come from buckets merged
inside Redis, never from the per-minute reads.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ingestion_service.queries.timers import peak, timer_count
from ingestion_service.sketch import Sketch
from ingestion_service.store.reader import MinuteData

QUANTILES = (("p50_ms", 0.5), ("p90_ms", 0.9), ("p95_ms", 0.95), ("p99_ms", 0.99))
# Stats field → counters field, summed over the span.
SUMS = (("requests", "n"), ("errors_4xx", "e4"), ("errors_5xx", "e5"), ("retries", "rt"),
        ("retried_requests", "rq"), ("redispatches", "rd"), ("queued", "qd"), ("client_aborts", "ca"))
MAXIMA = (("max_srv_queue", "sq"), ("max_backend_queue", "bq"), ("max_actconn", "ac"), ("max_srv_conn", "sc"))
# Minutes column → counters field.
COLUMNS = (("requests", "n"), ("errors_4xx", "e4"), ("errors_5xx", "e5"), ("retries", "rt"),
           ("redispatches", "rd"), ("queued", "qd"), ("client_aborts", "ca"))


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 3) if count > 0 else None


def _total(data: list[MinuteData], name: str) -> int:
    return sum(d.sums.get(name, 0) for d in data)


def prefixed(data: list[MinuteData], prefix: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in data:
        for name, v in d.sums.items():
            if name.startswith(prefix):
                out[name[len(prefix):]] = out.get(name[len(prefix):], 0) + v
    return dict(sorted(out.items()))


def timer(data: list[MinuteData], buckets: dict[int, int] | None, *, total: str, missing: str,
          maximum: str) -> dict[str, Any]:
    """count, quantiles (null without buckets), exact max and mean of one HAProxy timer."""
    count = timer_count(data, missing)
    s = Sketch(buckets or {})
    out: dict[str, Any] = {"count": count}
    for name, q in QUANTILES:
        out[name] = _round(s.quantile(q)) if buckets is not None else None
    top = peak(data, maximum)
    out["max_ms"] = float(top) if top is not None and count else None
    out["mean_ms"] = _mean(_total(data, total), count)
    return out


def stats_of(data: list[MinuteData], ta: dict[int, int], tr: dict[int, int] | None) -> dict[str, Any]:
    out: dict[str, Any] = {name: _total(data, f) for name, f in SUMS}
    out["status_codes"] = prefixed(data, "s:")
    out["terminations"] = prefixed(data, "t:")
    for name, f in MAXIMA:
        out[name] = peak(data, f) if out["requests"] else None
    out["ta"] = timer(data, ta, total="ta", missing="ua", maximum="ta")
    out["tr"] = timer(data, tr, total="tr", missing="ur", maximum="tr")
    tc_count = timer_count(data, "uc")
    tc_max = peak(data, "tc")
    out["tc_mean_ms"] = _mean(_total(data, "tc"), tc_count)
    out["tc_max_ms"] = float(tc_max) if tc_max is not None and tc_count else None
    out["tw_mean_ms"] = _mean(_total(data, "tw"), timer_count(data, "uw"))
    return out


def _failures(d: MinuteData) -> int:
    """Requests whose termination state starts with S or s (the server side ended them)."""
    return sum(v for name, v in d.sums.items() if name.startswith(("t:S", "t:s")))


def minutes_of(starts: list[int], data: list[MinuteData]) -> dict[str, Any]:
    """Columns, one entry per minute (oldest first, zero-filled; means null without requests)."""
    out: dict[str, Any] = {"start": iso(starts[0]) if starts else None}
    for name, f in COLUMNS:
        out[name] = [d.sums.get(f, 0) for d in data]
    out["server_failures"] = [_failures(d) for d in data]
    out["ta_mean_ms"] = [_mean(d.sums.get("ta", 0), d.sums.get("n", 0) - d.sums.get("ua", 0)) for d in data]
    out["tr_mean_ms"] = [_mean(d.sums.get("tr", 0), d.sums.get("n", 0) - d.sums.get("ur", 0)) for d in data]
    return out

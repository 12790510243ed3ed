"""A query result summarised for the model, pure: per series its labels and min/max/mean/last
(never every point), at most `max_series` series with a note when some were cut; the range
step no finer than (end - start) / max_points. Label values and strings are Prometheus' text:
untrusted, kept short, returned only as tool results."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent_service.prometheus.api import MatrixSeries, QueryData, Sample, ScalarData, StringData, VectorData

MAX_LABELS = 30
MAX_LABEL_CHARS = 200
MAX_STRING_CHARS = 500


@dataclass(frozen=True)
class Bounds:
    max_series: int = 20
    max_points: int = 240  # per series of a range query: the step is widened to stay under it


def range_step(start: datetime, end: datetime, step_s: float | None, max_points: int) -> float:
    """The step a range query uses: the one asked for, but at least (end - start) / max_points."""
    floor = max(1.0, math.ceil((end - start).total_seconds() / max_points))
    return max(step_s or floor, floor)


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


def _number(raw: str) -> float | str:
    """A sample value as a float, or the text ("NaN", "+Inf") when it is not finite (JSON has no NaN)."""
    try:
        value = float(raw)
    except ValueError:
        return raw[:40]
    return value if math.isfinite(value) else raw[:40]


def _labels(metric: dict[str, str]) -> dict[str, str]:
    return {k[:MAX_LABEL_CHARS]: v[:MAX_LABEL_CHARS] for k, v in sorted(metric.items())[:MAX_LABELS]}


def _stats(values: list[Sample]) -> dict[str, Any]:
    numbers = [_number(v) for _, v in values]
    finite = [n for n in numbers if isinstance(n, float)]
    out: dict[str, Any] = {"points": len(values)}
    if values:
        out["first_at"], out["last_at"] = _iso(values[0][0]), _iso(values[-1][0])
        out["last"] = numbers[-1]
    if finite:
        out.update(min=min(finite), max=max(finite), mean=round(sum(finite) / len(finite), 6))
    if len(finite) < len(numbers):
        out["non_finite_points"] = len(numbers) - len(finite)
    return out


def _matrix_series(s: MatrixSeries) -> dict[str, Any]:
    out = {"labels": _labels(s.metric), **_stats(s.values)}
    if s.histograms:
        out["histogram_points"] = len(s.histograms)  # native histograms: counted, not summarised
    return out


def summarise(data: QueryData, bounds: Bounds) -> dict[str, Any]:
    if isinstance(data, ScalarData):
        return {"result_type": "scalar", "value": _number(data.result[1]), "at": _iso(data.result[0])}
    if isinstance(data, StringData):
        return {"result_type": "string", "value": data.result[1][:MAX_STRING_CHARS], "at": _iso(data.result[0])}
    if isinstance(data, VectorData):
        rows: list[tuple[str, dict[str, Any]]] = []
        for v in data.result:
            row: dict[str, Any] = {"labels": _labels(v.metric)}
            if v.value is not None:
                row.update(value=_number(v.value[1]), at=_iso(v.value[0]))
            elif v.histogram is not None:
                row.update(histogram=True, at=_iso(v.histogram[0]))
            rows.append((repr(sorted(v.metric.items())), row))
    else:
        rows = [(repr(sorted(s.metric.items())), _matrix_series(s)) for s in data.result]
    rows.sort(key=lambda r: r[0])  # Prometheus does not promise an order: the same answer reads the same
    total = len(rows)
    out: dict[str, Any] = {"result_type": data.resultType, "series_total": total,
                           "series": [row for _, row in rows[: bounds.max_series]]}
    if total > bounds.max_series:
        out["truncated"] = (f"series cut to {bounds.max_series} of {total}: narrow the query (label matchers, "
                            "sum by (…), topk(…)) to see the rest")
    return out

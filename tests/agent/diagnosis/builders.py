"""Breakdown answers built by hand, in the shape of ingestion's GET /metrics/breakdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agent_service.diagnosis.case import Case
from agent_service.diagnosis.data import Breakdown, Span
from agent_service.rules.rules_engine import RulesEngine

END = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
WINDOW = 10
BASELINE = 60


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def timer(p50: float, p95: float, p99: float, count: int, mean: float | None = None) -> dict[str, Any]:
    return {"count": count, "p50_ms": p50, "p90_ms": p95 * 0.9, "p95_ms": p95, "p99_ms": p99,
            "max_ms": p99 * 1.5, "mean_ms": mean if mean is not None else p50 * 1.2}


def stats(requests: int, *, e5: int = 0, e4: int = 0, codes: dict[int, int] | None = None,
          terms: dict[str, int] | None = None, ta: tuple[float, float, float] = (40, 120, 200),
          tr: tuple[float, float, float] | None = None, retried: int = 0, redispatches: int = 0,
          queued: int = 0, tw: float | None = None, tc: float | None = None, retries: int | None = None) -> dict[str, Any]:
    codes = dict(codes or {})
    codes.setdefault(200, max(0, requests - e5 - e4 - sum(v for k, v in codes.items() if k != 200)))
    terms = dict(terms or {})
    terms.setdefault("----", max(0, requests - sum(terms.values())))
    tr = tr or ta
    return {"requests": requests, "errors_4xx": e4, "errors_5xx": e5,
            "status_codes": {str(k): v for k, v in codes.items()}, "terminations": terms,
            "retries": retries if retries is not None else retried, "retried_requests": retried,
            "redispatches": redispatches, "queued": queued,
            "client_aborts": sum(v for k, v in terms.items() if k[:1] in "Cc"),
            "max_srv_queue": 0, "max_backend_queue": 0, "max_actconn": 10, "max_srv_conn": 5,
            "ta": timer(*ta, requests), "tr": timer(*tr, requests), "tc_mean_ms": tc, "tc_max_ms": tc,
            "tw_mean_ms": tw}


def minutes(per_minute: list[float], start: datetime, **cols: list[float]) -> dict[str, Any]:
    n = len(per_minute)
    out: dict[str, Any] = {"start": iso(start), "requests": per_minute}
    for name in ("errors_4xx", "errors_5xx", "retries", "redispatches", "queued", "client_aborts", "server_failures"):
        out[name] = cols.get(name, [0] * n)
    out["ta_mean_ms"] = cols.get("ta_mean_ms", [50.0 if r else None for r in per_minute])
    out["tr_mean_ms"] = cols.get("tr_mean_ms", out["ta_mean_ms"])
    return out


def scope(kind: str, name: str, now: dict[str, Any], before: dict[str, Any], *, now_minutes: list[float] | None = None,
          before_minutes: list[float] | None = None, routes: tuple[str, ...] = (), now_cols: dict | None = None,
          before_cols: dict | None = None) -> dict[str, Any]:
    start_w = END - timedelta(minutes=WINDOW)
    start_b = start_w - timedelta(minutes=BASELINE)
    nm = now_minutes if now_minutes is not None else [now["requests"] / WINDOW] * WINDOW
    bm = before_minutes if before_minutes is not None else [before["requests"] / BASELINE] * BASELINE
    backend, server = (name.partition("/")[0], name.partition("/")[2]) if kind == "server" else (
        (name, None) if kind == "backend" else (None, None))
    return {"kind": kind, "name": name, "backend": backend, "server": server, "routes": list(routes),
            "window": now, "baseline": before, "window_minutes": minutes(nm, start_w, **(now_cols or {})),
            "baseline_minutes": minutes(bm, start_b, **(before_cols or {}))}


def answer(*scopes: dict[str, Any]) -> dict[str, Any]:
    start_w = END - timedelta(minutes=WINDOW)
    return {"window": {"start": iso(start_w), "end": iso(END), "seconds": WINDOW * 60},
            "baseline": {"start": iso(start_w - timedelta(minutes=BASELINE)), "end": iso(start_w), "seconds": BASELINE * 60},
            "scopes": list(scopes)}


def case(raw: dict[str, Any], **kw: Any) -> Case:
    start_w = END - timedelta(minutes=WINDOW)
    data = Breakdown.of(raw, window=Span(start_w, END), baseline=Span(start_w - timedelta(minutes=BASELINE), start_w))
    return Case(data=data, limits=RulesEngine().limits, **kw)

"""Saturation: HAProxy queueing (sustained share of queued requests), Redis memory."""

from __future__ import annotations

from typing import Any

from agent_service.rules import termination
from agent_service.rules.fmt import ms, num, pct, signal_key, worst
from agent_service.rules.recorder import Recorder
from agent_service.rules.verdict import CheckInput, Verdict
from agent_service.specialists.specs import SaturationThresholds
from agent_service.tools.registry import BACKENDS, OVERVIEW, RESPONSE_TIMES, SATURATION, TERMINATION_STATES

MAX_BACKEND_PROBES = 5


async def check(rec: Recorder, inp: CheckInput, th: SaturationThresholds) -> Verdict:
    mem_warn, queue_warn, min_req = th.redis_memory_warning_pct, th.queue_warning_pct, th.min_requests
    window = {"window": inp.window}
    sat, ov = await rec.call_many([(SATURATION, window), (OVERVIEW, window)])
    if sat is None:
        raise LookupError("; ".join(rec.errors) or "no saturation data")
    ov = ov or {}
    total = int(ov.get("total_requests") or 0)
    redis = sat.get("redis") or {}
    haproxy = sat.get("haproxy") or {}
    signals: dict[str, float] = {"requests": total}
    for key in ("max_srv_queue", "max_backend_queue", "queued_requests", "max_srv_conn", "max_actconn", "retries"):
        if haproxy.get(key) is not None:
            signals[key] = haproxy[key]
    mem_pct = redis.get("memory_pct")
    if mem_pct is not None:
        signals["redis_memory_pct"] = mem_pct

    parts: list[str] = []
    details = [
        f"Thresholds: requests waiting in a HAProxy queue for at least {pct(queue_warn)} of the window's "
        f"requests is a warning; Redis memory above {pct(mem_warn)} of maxmemory is a warning."
    ]
    severities = ["ok"]
    queued = int(haproxy.get("queued_requests") or 0)
    sustained = total >= min_req and queued * 100.0 >= queue_warn * total
    if sustained:
        severities.append("warning")
        states_data, rt, backends_data = await rec.call_many(
            [(TERMINATION_STATES, window), (RESPONSE_TIMES, window), (BACKENDS, window)]
        )
        rt = rt or {}
        states = (states_data or {}).get("termination_states", {})
        timeouts = sum(n for s, n in states.items() if termination.is_queue_timeout(s))
        where = await _queueing_backend(rec, inp, (backends_data or {}).get("backends", []), min_req)
        if where:
            name, data = where
            signals[signal_key("queued_requests", name)] = data.get("queued_requests") or 0
            parts.append(
                f"Backend {name} is saturated: {num(data.get('queued_requests'))} requests waited in a queue "
                f"(server queue up to {num(data.get('max_srv_queue'))}, backend queue up to "
                f"{num(data.get('max_backend_queue'))}, up to {num(data.get('max_srv_conn'))} connections per server)."
            )
        parts.append(
            f"Sustained queueing: {num(queued)} of {num(total)} requests waited in a HAProxy queue in the last "
            f"{inp.window}, above the {pct(queue_warn)} threshold; highest server queue {num(haproxy.get('max_srv_queue'))}, "
            f"backend queue {num(haproxy.get('max_backend_queue'))}."
        )
        if rt.get("p95_ms") is not None:
            parts.append(f"Latency meanwhile: p95 {ms(rt.get('p95_ms'))}, p99 {ms(rt.get('p99_ms'))}.")
        if timeouts:
            severities.append("critical")
            signals["queue_timeouts"] = timeouts
            parts.append(f"{num(timeouts)} requests timed out in the queue (sQ): clients are being turned away.")
    elif queued:
        details.append(
            f"{num(queued)} of {num(total)} requests queued briefly (below the threshold); "
            f"highest server queue {num(haproxy.get('max_srv_queue'))}."
        )
    if mem_pct is not None and mem_pct > mem_warn:
        severities.append("warning")
        parts.append(
            f"Redis memory at {pct(mem_pct)} of maxmemory ({num(redis.get('used_memory_bytes'))} of "
            f"{num(redis.get('maxmemory_bytes'))} bytes), above the {pct(mem_warn)} threshold; "
            f"evicted keys: {num(redis.get('evicted_keys'))}."
        )
    if redis.get("rejected_connections"):
        details.append(f"Redis rejected {num(redis['rejected_connections'])} connections.")
    severity = worst(*severities)
    if severity == "ok":
        mem_text = f"Redis memory {pct(mem_pct)} of maxmemory" if mem_pct is not None else "Redis has no maxmemory set"
        parts.append(
            f"No saturation: {num(queued)} queued requests of {num(total)} in the last {inp.window}, "
            f"highest server queue {num(haproxy.get('max_srv_queue'))}; {mem_text}."
        )
    if haproxy.get("retries"):
        details.append(f"HAProxy retried {num(haproxy['retries'])} connections.")
    return Verdict(severity, " ".join(parts), " ".join(details), signals)


async def _queueing_backend(
    rec: Recorder, inp: CheckInput, backends: list[dict[str, Any]], min_req: float
) -> tuple[str, dict[str, Any]] | None:
    ranked = [b["name"] for b in sorted(backends, key=lambda b: -b.get("requests", 0)) if b.get("requests", 0) >= min_req]
    ranked = ranked[:MAX_BACKEND_PROBES]
    answers = await rec.call_many([(SATURATION, {"window": inp.window, "backend": name}) for name in ranked])
    best: tuple[str, dict[str, Any]] | None = None
    for name, scoped in zip(ranked, answers, strict=True):
        haproxy = (scoped or {}).get("haproxy") or {}
        if best is None or (haproxy.get("queued_requests") or 0) > (best[1].get("queued_requests") or 0):
            best = (name, haproxy)
    return best if best and (best[1].get("queued_requests") or 0) > 0 else None

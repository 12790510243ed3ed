"""Saturation modes: a backend at capacity (requests waiting in its queue, `Tw`, `srv_queue`,
`backend_queue`; queue timeouts `sQ`), and the copilot's own Redis running out of memory."""

from __future__ import annotations

from agent_service.diagnosis.case import Case, minute_rate
from agent_service.diagnosis.data import ScopeData, Series, Stats
from agent_service.diagnosis.hypothesis import Hypothesis, Level
from agent_service.diagnosis.fmt import ms, num, pct

EMPTY_SITE = ScopeData("site", "", None, None, (), Stats(), Stats(), Series(), Series())


def backend_queueing(case: Case, b: ScopeData) -> list[Hypothesis]:
    th, errors = case.limits.saturation, case.limits.errors
    now = b.now
    queued = now.server_queued  # a tarpit's hold is in Tw too, and is no queue
    share = now.share(queued)
    if queued < errors.min_errors or share < th.queue_warning_pct or case.data.proxy_only(b):
        return []
    floor = th.queue_warning_pct / 100
    timing = case.timing(b, lambda i: (minute_rate(b.now_minutes, "queued", i) or 0.0) >= floor)
    if timing.bad_minutes < min(3, len(b.now_minutes)):
        return []  # a blip, not sustained queueing
    queue_timeouts = now.ended("s", "Q")
    sev: Level = "critical" if now.share(queue_timeouts) > errors.error_5xx_warning_pct else "warning"
    if timing.recovered:
        sev = "warning"
    wait = f", {ms(now.tw_mean)} in the queue on average" if now.tw_mean is not None else ""
    depth = [f"srv_queue up to {num(now.max_srv_queue)}" if now.max_srv_queue else "",
             f"backend queue up to {num(now.max_backend_queue)}" if now.max_backend_queue else "",
             f"{num(queue_timeouts)} timed out in the queue (sQ--)" if queue_timeouts else ""]
    detail = "; ".join(d for d in depth if d)
    return [Hypothesis(
        "overloaded_queueing", "saturation", sev, b, headline="at capacity, requests queue",
        sentence=(f"{b.name} is at capacity: {pct(share)} of its {num(now.requests)} requests waited in a queue"
                  f"{wait}" + (f" ({detail})." if detail else ".")),
        recommendation=(f"Add capacity to {b.name} (more servers, or a higher maxconn if its servers have headroom), "
                        f"or shed load: its servers are all busy and requests queue."),
        support=(f"queued {pct(share)}",), numbers={"queued_pct": share, "queued_requests": queued,
                                                    "max_srv_queue": now.max_srv_queue,
                                                    "max_backend_queue": now.max_backend_queue},
        timing=timing)]


def redis_memory(case: Case) -> list[Hypothesis]:
    pct_used = case.redis.get("memory_pct")
    if not isinstance(pct_used, int | float) or pct_used < case.limits.saturation.redis_memory_warning_pct:
        return []
    return [Hypothesis(
        "redis_memory", "saturation", "warning", case.data.site or EMPTY_SITE, headline="Redis memory pressure",
        sentence=(f"The copilot's Redis uses {pct(float(pct_used))} of its maxmemory "
                  f"({num(case.redis.get('used_memory_bytes'))} of {num(case.redis.get('maxmemory_bytes'))} bytes): "
                  f"new minutes may be evicted or refused."),
        recommendation="Raise Redis' maxmemory or shorten RETENTION_HOURS before it starts evicting the signals.",
        numbers={"redis_memory_pct": float(pct_used)})]


def saturation_hypotheses(case: Case) -> list[Hypothesis]:
    out: list[Hypothesis] = []
    for b in case.data.of_kind("backend"):
        if case.enough(b):
            out += backend_queueing(case, b)
    return out + redis_memory(case)

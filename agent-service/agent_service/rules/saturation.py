"""Saturation: HAProxy queueing (sustained share of queued requests, the backend that queues, queue
timeouts) and Redis memory. fetch (rules/fetch.py) → SaturationFacts → grade_saturation (pure) → words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent_service.rules import termination
from agent_service.rules.fmt import ms, num, pct, signal_key
from agent_service.rules.grades import Grade, Grades, ScopeRef, SITE
from agent_service.rules.verdict import Verdict
from agent_service.specialists.specs import SaturationThresholds
from agent_service.tools.registry import OVERVIEW, SATURATION, TERMINATION_STATES

HAPROXY_KEYS = ("max_srv_queue", "max_backend_queue", "queued_requests", "max_srv_conn", "max_actconn", "retries")


@dataclass(frozen=True)
class SaturationFacts:
    requests: int
    haproxy: Mapping[str, float] = field(default_factory=dict)  # HAPROXY_KEYS, site-wide
    redis: Mapping[str, Any] = field(default_factory=dict)  # memory_pct, used/maxmemory_bytes, evicted_keys, …
    # Read only when queueing is sustained:
    states: Mapping[str, int] = field(default_factory=dict)
    p95_ms: float | None = None
    p99_ms: float | None = None
    backend_haproxy: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # probed backends

    @property
    def queued(self) -> int:
        return int(self.haproxy.get("queued_requests") or 0)


def grade_saturation(facts: SaturationFacts, th: SaturationThresholds) -> Grades:
    items: list[Grade] = []
    if facts.requests >= th.min_requests:
        sustained = facts.queued * 100.0 >= th.queue_warning_pct * facts.requests  # at least the threshold
        items.append(Grade("queueing", "warning" if sustained else "ok", SITE,
                           {"queued_requests": facts.queued, "requests": facts.requests}, (SATURATION, OVERVIEW)))
        timeouts = sum(n for s, n in facts.states.items() if termination.is_queue_timeout(s))
        if sustained and timeouts:
            items.append(Grade("queue_timeouts", "critical", SITE, {"queue_timeouts": timeouts}, (TERMINATION_STATES,)))
        best = max(facts.backend_haproxy.items(), key=lambda kv: kv[1].get("queued_requests") or 0, default=None)
        if sustained and best and (best[1].get("queued_requests") or 0) > 0:
            items.append(Grade("queueing", "warning", ScopeRef.backend(best[0]), dict(best[1]), (SATURATION,)))
    mem = facts.redis.get("memory_pct")
    if mem is not None:
        hot = mem > th.redis_memory_warning_pct
        items.append(Grade("redis_memory", "warning" if hot else "ok", SITE, {"memory_pct": mem}, (SATURATION,)))
    return Grades(tuple(items))


def words(facts: SaturationFacts, grades: Grades, th: SaturationThresholds, *, window: str) -> Verdict:
    haproxy, redis, queued, total = facts.haproxy, facts.redis, facts.queued, facts.requests
    signals: dict[str, float] = {"requests": total, **haproxy}
    if redis.get("memory_pct") is not None:
        signals["redis_memory_pct"] = redis["memory_pct"]
    parts: list[str] = []
    details = [
        f"Thresholds: requests waiting in a HAProxy queue for at least {pct(th.queue_warning_pct)} of the window's "
        f"requests is a warning; Redis memory above {pct(th.redis_memory_warning_pct)} of maxmemory is a warning."
    ]
    queueing = [g for g in grades.named("queueing")]
    if queueing:
        for g in queueing[1:]:
            name, data = g.scope.name, g.numbers
            signals[signal_key("queued_requests", name)] = data.get("queued_requests") or 0
            parts.append(
                f"Backend {name} is saturated: {num(data.get('queued_requests'))} requests waited in a queue "
                f"(server queue up to {num(data.get('max_srv_queue'))}, backend queue up to "
                f"{num(data.get('max_backend_queue'))}, up to {num(data.get('max_srv_conn'))} connections per server).")
        parts.append(
            f"Sustained queueing: {num(queued)} of {num(total)} requests waited in a HAProxy queue in the last "
            f"{window}, above the {pct(th.queue_warning_pct)} threshold; highest server queue "
            f"{num(haproxy.get('max_srv_queue'))}, backend queue {num(haproxy.get('max_backend_queue'))}.")
        if facts.p95_ms is not None:
            parts.append(f"Latency meanwhile: p95 {ms(facts.p95_ms)}, p99 {ms(facts.p99_ms)}.")
        for g in grades.named("queue_timeouts"):
            signals["queue_timeouts"] = g.numbers["queue_timeouts"]
            parts.append(f"{num(g.numbers['queue_timeouts'])} requests timed out in the queue (sQ): clients are being "
                         "turned away.")
    elif queued:
        details.append(f"{num(queued)} of {num(total)} requests queued briefly (below the threshold); "
                       f"highest server queue {num(haproxy.get('max_srv_queue'))}.")
    if grades.named("redis_memory"):
        signals["redis_memory_warning_pct"] = th.redis_memory_warning_pct  # the synthesis reads it
        parts.append(
            f"Redis memory at {pct(redis.get('memory_pct'))} of maxmemory ({num(redis.get('used_memory_bytes'))} of "
            f"{num(redis.get('maxmemory_bytes'))} bytes), above the {pct(th.redis_memory_warning_pct)} threshold; "
            f"evicted keys: {num(redis.get('evicted_keys'))}.")
    if redis.get("rejected_connections"):
        details.append(f"Redis rejected {num(redis['rejected_connections'])} connections.")
    severity = grades.severity
    if severity == "ok":
        mem = redis.get("memory_pct")
        mem_text = f"Redis memory {pct(mem)} of maxmemory" if mem is not None else "Redis has no maxmemory set"
        parts.append(f"No saturation: {num(queued)} queued requests of {num(total)} in the last {window}, "
                     f"highest server queue {num(haproxy.get('max_srv_queue'))}; {mem_text}.")
    if haproxy.get("retries"):
        details.append(f"HAProxy retried {num(haproxy['retries'])} connections.")
    return Verdict(severity, " ".join(parts), " ".join(details), signals)

"""Latency: P95/P99 of HAProxy Ta, site-wide and per backend, against the thresholds, and each slow
backend against its own previous window. fetch (rules/fetch.py) → LatencyFacts → grade_latency (pure) → words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent_service.rules.facts import BackendStats
from agent_service.rules.fmt import ms, num, signal_key
from agent_service.rules.grades import Grade, Grades, Level, ScopeRef, SITE
from agent_service.rules.verdict import Verdict
from agent_service.specialists.specs import LatencyThresholds
from agent_service.tools.registry import BACKENDS, RESPONSE_TIMES


@dataclass(frozen=True)
class Quantiles:
    count: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None

    @classmethod
    def of(cls, answer: Mapping[str, Any] | None) -> Quantiles:
        a = answer or {}
        return cls(int(a.get("count") or 0), a.get("p50_ms"), a.get("p95_ms"), a.get("p99_ms"), a.get("max_ms"))


@dataclass(frozen=True)
class LatencyFacts:
    site: Quantiles
    backends: tuple[BackendStats, ...] = ()
    # The window before (read only when something is slow); None = not read or unanswered.
    previous_site: Quantiles | None = None
    previous_backends: Mapping[str, BackendStats] = field(default_factory=dict)


def level(p95: float | None, p99: float | None, th: LatencyThresholds) -> Level:
    if p99 is not None and p99 > th.p99_critical_ms:
        return "critical"
    if p95 is not None and p95 > th.p95_warning_ms:
        return "warning"
    return "ok"


def rose(now: BackendStats, before: BackendStats, factor: float) -> bool:
    """p95 or p99 at least `factor` times the previous window's."""
    pairs = ((now.p95_ms, before.p95_ms), (now.p99_ms, before.p99_ms))
    return any(n is not None and b is not None and b > 0 and n >= factor * b for n, b in pairs)


def _numbers(**values: float | None) -> dict[str, float]:
    return {k: v for k, v in values.items() if v is not None}


def grade_latency(facts: LatencyFacts, th: LatencyThresholds) -> Grades:
    """The site (when it had enough requests), each busy backend (slow ones first: critical, then by
    p99), and for each slow backend with enough requests before, whether its latency rose."""
    items: list[Grade] = []
    site = facts.site
    if site.count >= th.min_requests:
        items.append(Grade("latency", level(site.p95_ms, site.p99_ms, th), SITE,
                           _numbers(p95_ms=site.p95_ms, p99_ms=site.p99_ms, requests=site.count), (RESPONSE_TIMES,)))
    slow: list[Grade] = []
    for b in facts.backends:
        if b.requests >= th.min_requests:
            slow.append(Grade("latency", level(b.p95_ms, b.p99_ms, th), ScopeRef.backend(b.name),
                              _numbers(p95_ms=b.p95_ms, p99_ms=b.p99_ms, requests=b.requests), (BACKENDS,)))
    slow.sort(key=lambda g: (g.severity != "critical", g.severity == "ok", -(g.numbers.get("p99_ms") or 0)))
    items += slow
    current = {b.name: b for b in facts.backends}
    for g in slow:
        before = facts.previous_backends.get(g.scope.name)
        if g.severity == "ok" or before is None or before.requests < th.min_requests:
            continue
        risen = rose(current[g.scope.name], before, th.rise_factor)
        items.append(Grade("latency_rose" if risen else "latency_steady", "ok", g.scope,
                           _numbers(previous_p95_ms=before.p95_ms, previous_p99_ms=before.p99_ms), (BACKENDS,)))
    return Grades(tuple(items))


def _trend(g: Grade, trend: Grade | None, window: str, signals: dict[str, float]) -> str:
    """Signals `previous_p95_ms[b]`/`previous_p99_ms[b]` and `latency_rose[b]` (1 rose, 0 steady) let
    the synthesis tell a regression from a standing slowness."""
    name = g.scope.name
    if trend is None:
        return f"No comparable traffic on {name} in the {window} before."
    for key in ("p95_ms", "p99_ms"):
        if f"previous_{key}" in trend.numbers:
            signals[signal_key(f"previous_{key}", name)] = trend.numbers[f"previous_{key}"]
    signals[signal_key("latency_rose", name)] = 1.0 if trend.name == "latency_rose" else 0.0
    then = f"p95 {ms(trend.numbers.get('previous_p95_ms'))}, p99 {ms(trend.numbers.get('previous_p99_ms'))}"
    if trend.name == "latency_rose":
        return f"In the {window} before, {name} had {then}: its latency rose."
    return f"In the {window} before, {name} already had {then}: no sharp rise, a standing slowness rather than a new one."


def words(facts: LatencyFacts, grades: Grades, th: LatencyThresholds, *, window: str) -> Verdict:
    site, severity = facts.site, grades.severity
    signals: dict[str, float] = {"requests": site.count, **_numbers(p95_ms=site.p95_ms, p99_ms=site.p99_ms)}
    slow = [g for g in grades.named("latency") if g.scope.kind == "backend"]
    trends = {g.scope.name: g for g in grades.items if g.name in {"latency_rose", "latency_steady"}}
    parts: list[str] = []
    details = [f"Thresholds: p95 above {ms(th.p95_warning_ms)} is a warning, p99 above {ms(th.p99_critical_ms)} is critical."]
    for g in slow[:3]:
        name, n = g.scope.name, g.numbers
        parts.append(f"Backend {name} is slow: p99 {ms(n.get('p99_ms'))}, p95 {ms(n.get('p95_ms'))} "
                     f"over {num(n['requests'])} requests ({g.severity}).")
        if "p99_ms" in n:
            signals[signal_key("p99_ms", name)] = n["p99_ms"]
        if "p95_ms" in n:
            signals[signal_key("p95_ms", name)] = n["p95_ms"]
        parts.append(_trend(g, trends.get(name), window, signals))
    if site.count < th.min_requests:
        parts.append(f"Only {num(site.count)} requests in the last {window}: too few to judge latency.")
    elif severity != "ok":
        parts.append(f"Site-wide p95 {ms(site.p95_ms)}, p99 {ms(site.p99_ms)} over {num(site.count)} requests.")
    else:
        parts.append(f"Latency within thresholds: p95 {ms(site.p95_ms)}, p99 {ms(site.p99_ms)} over "
                     f"{num(site.count)} requests in the last {window}.")
    before = facts.previous_site
    if before is not None and before.count:
        if before.p99_ms is not None:
            signals["previous_p99_ms"] = before.p99_ms
        parts.append(f"Site-wide in the {window} before: p95 {ms(before.p95_ms)}, p99 {ms(before.p99_ms)}.")
    elif severity != "ok":
        details.append("No traffic in the previous window to compare with.")
    if len(slow) > 3:
        details.append(f"{len(slow) - 3} more slow backends: " + ", ".join(g.scope.name for g in slow[3:10]))
    if site.max_ms is not None:
        details.append(f"Slowest request: {ms(site.max_ms)}; p50 {ms(site.p50_ms)}.")
    return Verdict(severity=severity, summary=" ".join(parts), details=" ".join(details), signals=signals)

"""Traffic: drops to zero or by more than the threshold (against the previous window and inside
the window's own per-minute series), surges, and backends losing their traffic.
fetch (rules/fetch.py) → TrafficFacts → grade_traffic (pure) → words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from agent_service.rules.fmt import num, pct, signal_key
from agent_service.rules.grades import Grade, Grades, ScopeRef, SITE
from agent_service.rules.verdict import Verdict
from agent_service.specialists.specs import TrafficThresholds
from agent_service.tools.registry import BACKENDS, OVERVIEW, RPS_SERIES


@dataclass(frozen=True)
class TrafficFacts:
    minutes: int  # the window's length
    requests: int = 0
    previous_requests: int = 0
    rps: float = 0.0
    previous_rps: float = 0.0
    series: tuple[int, ...] = ()  # requests per minute in the window
    before: tuple[int, ...] = ()  # requests per minute in the window before
    backends: Mapping[str, int] = field(default_factory=dict)  # requests per backend in the window
    previous_backends: Mapping[str, int] = field(default_factory=dict)
    latest_backends: Mapping[str, int] | None = None  # over the latest tail_minutes; None = not read

    @property
    def covered(self) -> bool:
        """The previous window is a fair baseline only if traffic ran through most of it (not when
        the logs merely started at its end)."""
        return len(self.before) > 0 and sum(1 for v in self.before if v > 0) * 2 >= len(self.before)


def tail_minutes(n: int) -> int:
    """How many of the latest minutes must all be low: enough to be sustained, and more than one
    so a still-filling current minute alone never looks like a drop."""
    return 3 if n >= 8 else 2


def _typical(values: tuple[int, ...] | list[int]) -> int:
    return sorted(values)[len(values) // 2]


def series_drop(requests: tuple[int, ...] | list[int], th: TrafficThresholds) -> tuple[int, int] | None:
    """(typical requests/min before, highest requests/min in the latest minutes) when the latest
    minutes all sit more than the drop threshold under the typical minute before them; else None."""
    n = len(requests)
    if n < 4:
        return None
    k = tail_minutes(n)
    # The typical minute once traffic had started (leading empty minutes are before the logs began).
    started, tail = [v for v in requests[: n - k] if v > 0], requests[n - k :]
    if not started or sum(started) < th.min_requests or _typical(started) < th.min_typical_per_minute:
        return None
    typical = _typical(started)
    return (typical, max(tail)) if _at_most_after_drop(max(tail), typical, th) else None


def series_surge(requests: tuple[int, ...] | list[int], th: TrafficThresholds) -> tuple[int, int] | None:
    n = len(requests)
    if n < 4:
        return None
    k = tail_minutes(n)
    head, tail = [v for v in requests[: n - k] if v > 0], requests[n - k :]
    if not head or sum(head) < th.min_requests:
        return None
    typical = _typical(head)
    return (typical, min(tail)) if min(tail) * 100 >= typical * (100 + th.traffic_surge_warning_pct) else None


def _site(facts: TrafficFacts, th: TrafficThresholds) -> Grade | None:
    """At most one site-wide grade, the first that holds: a drop against the window before, a drop
    inside the window, a surge against a covered window before, a surge inside the window."""
    drop, surge = th.traffic_drop_critical_pct, th.traffic_surge_warning_pct
    known = facts.previous_requests >= th.min_requests
    totals = {"requests": facts.requests, "previous_requests": facts.previous_requests,
              "rps": facts.rps, "previous_rps": facts.previous_rps}
    if known and (facts.requests == 0 or facts.rps * 100 < facts.previous_rps * (100 - drop)):
        return Grade("traffic_drop", "critical", SITE, totals, (OVERVIEW,))
    dropped = series_drop(facts.series, th)
    if dropped:
        return Grade("traffic_drop_in_window", "critical", SITE,
                     {"typical_per_minute": dropped[0], "latest_per_minute": dropped[1]}, (RPS_SERIES,))
    if known and facts.covered and facts.rps * 100 > facts.previous_rps * (100 + surge):
        return Grade("traffic_surge", "warning", SITE, totals, (OVERVIEW,))
    surged = series_surge(facts.series, th)
    if surged:
        return Grade("traffic_surge_in_window", "warning", SITE,
                     {"typical_per_minute": surged[0], "latest_per_minute": surged[1]}, (RPS_SERIES,))
    return None


def _at_most_after_drop(now: float, before: float, th: TrafficThresholds) -> bool:
    """`now` is at least the drop threshold below `before` (in percent, so that the limit itself is
    exact: 1 after 5 is an 80 % drop)."""
    return now * 100 <= before * (100 - th.traffic_drop_critical_pct)


def _backend_drops(facts: TrafficFacts, th: TrafficThresholds) -> list[Grade]:
    """Backends whose own traffic fell while the site's did not: against their window before (when
    it is covered), then inside the window (latest minutes against the earlier ones)."""
    if len(set(facts.backends) | set(facts.previous_backends)) < 2:
        return []  # with one backend the site-wide grades already said it
    out: list[Grade] = []
    for name, count in sorted(facts.previous_backends.items(), key=lambda kv: -kv[1]):
        now = facts.backends.get(name, 0)
        if facts.covered and count >= th.min_requests and now * 100 < count * (100 - th.traffic_drop_critical_pct):
            out.append(Grade("backend_traffic_drop", "critical", ScopeRef.backend(name),
                             {"requests": now, "previous_requests": count}, (BACKENDS,)))
    if facts.latest_backends is None:
        return out
    k, gone = tail_minutes(facts.minutes), {g.scope.name for g in out}
    for name in sorted(busy_backends(facts, th, gone), key=lambda n: -facts.backends[n]):
        recent = facts.latest_backends.get(name, 0)
        earlier = facts.backends[name] - recent
        typical = earlier / (facts.minutes - k)
        if earlier >= th.min_requests and typical >= th.min_typical_per_minute and _at_most_after_drop(recent / k, typical, th):
            out.append(Grade("backend_traffic_drop_in_window", "critical", ScopeRef.backend(name),
                             {"recent_requests": recent, "requests": facts.backends[name], "recent_minutes": k},
                             (BACKENDS,)))
    return out


def busy_backends(facts: TrafficFacts, th: TrafficThresholds, gone: set[str]) -> list[str]:
    return [n for n, c in facts.backends.items() if c >= th.min_requests and n not in gone]


def grade_traffic(facts: TrafficFacts, th: TrafficThresholds) -> Grades:
    site = _site(facts, th)
    items = [site] if site else []
    if not site or site.severity != "critical":
        items += _backend_drops(facts, th)
    return Grades(tuple(items))


def needs_latest(facts: TrafficFacts, th: TrafficThresholds) -> bool:
    """Whether the latest minutes of each backend must be read to judge a drop inside the window."""
    site = _site(facts, th)
    if site and site.severity == "critical":
        return False  # the site dropped: backends are not judged
    if len(set(facts.backends) | set(facts.previous_backends)) < 2:
        return False
    gone = {g.scope.name for g in _backend_drops(facts, th)}
    return bool(busy_backends(facts, th, gone)) and facts.minutes > tail_minutes(facts.minutes)


def _site_sentence(g: Grade, th: TrafficThresholds, window: str) -> str:
    n, drop = g.numbers, pct(th.traffic_drop_critical_pct)
    if g.name == "traffic_drop" and n["requests"] == 0:
        return (f"Traffic fell to zero: 0 requests in the last {window}, against {num(n['previous_requests'])} "
                f"in the {window} before.")
    if g.name == "traffic_drop":
        return (f"Traffic dropped by more than {drop}: {num(n['rps'])} requests/s in the last {window} against "
                f"{num(n['previous_rps'])} requests/s before ({num(n['requests'])} against "
                f"{num(n['previous_requests'])} requests).")
    typical, latest = num(n.get("typical_per_minute")), n.get("latest_per_minute")
    if g.name == "traffic_drop_in_window" and latest == 0:
        return (f"Traffic fell to zero: 0 requests per minute in the latest minutes, after about {typical} requests "
                f"per minute earlier in the last {window}.")
    if g.name == "traffic_drop_in_window":
        return (f"Traffic dropped by more than {drop}: at most {num(latest)} requests per minute in the latest "
                f"minutes, after about {typical} per minute earlier in the last {window}.")
    if g.name == "traffic_surge":
        return (f"Traffic surge: {num(n['rps'])} requests/s in the last {window} against {num(n['previous_rps'])} "
                "requests/s before.")
    return (f"Traffic surge: at least {num(latest)} requests per minute in the latest minutes, after about "
            f"{typical} per minute earlier in the last {window}.")


def _backend_sentence(g: Grade, th: TrafficThresholds, window: str) -> str:
    name, n = g.scope.name, g.numbers
    now = n["recent_requests"] if g.name == "backend_traffic_drop_in_window" else n["requests"]
    what = "lost its traffic" if now == 0 else f"lost more than {pct(th.traffic_drop_critical_pct)} of its traffic"
    if g.name == "backend_traffic_drop":
        return (f"Backend {name} {what}: {num(now)} requests in the last {window} after "
                f"{num(n['previous_requests'])} in the {window} before.")
    return (f"Backend {name} {what}: {num(now)} requests in the last {num(n['recent_minutes'])}m, "
            f"against {num(n['requests'])} in the last {window}.")


def words(facts: TrafficFacts, grades: Grades, th: TrafficThresholds, *, window: str) -> Verdict:
    signals: dict[str, float] = {"requests": facts.requests, "rps": facts.rps,
                                 "previous_requests": facts.previous_requests, "previous_rps": facts.previous_rps}
    parts = [_site_sentence(g, th, window) for g in grades.items if g.scope.kind == "site"]
    lost = [g for g in grades.items if g.scope.kind == "backend"][:3]
    for g in lost:
        signals[signal_key("requests", g.scope.name)] = facts.backends.get(g.scope.name, 0)
        parts.append(_backend_sentence(g, th, window))
    severity = grades.severity
    if severity == "ok":
        if facts.requests == 0 and facts.previous_requests == 0:
            parts.append(f"No requests in the last {window} nor in the {window} before: nothing to judge.")
        else:
            parts.append(f"Traffic steady: {num(facts.requests)} requests ({num(facts.rps)} requests/s) in the last "
                         f"{window}, {num(facts.previous_requests)} in the {window} before.")
    top = sorted(facts.backends.items(), key=lambda kv: -kv[1])[:5]
    details = (f"Thresholds: a drop of more than {pct(th.traffic_drop_critical_pct)} or to zero is critical; a rise of "
               f"more than {pct(th.traffic_surge_warning_pct)} is a warning.")
    if top:
        details += " Busiest backends: " + ", ".join(f"{name} ({num(n)})" for name, n in top) + "."
    return Verdict(severity, " ".join(parts), details, signals)

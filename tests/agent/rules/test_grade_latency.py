"""grade_latency on plain facts: no tools, no I/O."""

from __future__ import annotations

from agent_service.rules.facts import BackendStats
from agent_service.rules.grades import ScopeRef
from agent_service.rules.latency import LatencyFacts, Quantiles, grade_latency
from tests.agent.rules.thresholds import for_

TH = for_("latency")  # p95 above 500 ms a warning, p99 above 1000 ms critical; 20 requests; rises at 1.5×


def site(p95: float = 100, p99: float = 200, count: int = 1000, **kw: object) -> LatencyFacts:
    return LatencyFacts(site=Quantiles(count, p95_ms=p95, p99_ms=p99), **kw)  # type: ignore[arg-type]


def levels(facts: LatencyFacts) -> list[tuple[str, str, str]]:
    return [(g.name, g.scope.name, g.severity) for g in grade_latency(facts, TH).items]


def test_the_limits_themselves_are_within_them() -> None:
    assert grade_latency(site(p95=500, p99=1000), TH).severity == "ok"
    assert grade_latency(site(p95=500.1, p99=1000), TH).severity == "warning"
    assert grade_latency(site(p95=100, p99=1000.1), TH).severity == "critical"


def test_below_min_requests_a_scope_is_not_judged() -> None:
    assert levels(site(p95=4000, p99=5000, count=19)) == []
    assert grade_latency(site(p95=4000, p99=5000, count=20), TH).severity == "critical"
    tiny = site(backends=(BackendStats("be_tiny", 19, p95_ms=9000, p99_ms=9000),))
    assert levels(tiny) == [("latency", "", "ok")]


def test_slow_backends_critical_first_then_by_p99() -> None:
    facts = site(backends=(BackendStats("be_w", 100, p95_ms=900, p99_ms=950), BackendStats("be_ok", 100),
                           BackendStats("be_c1", 100, p95_ms=100, p99_ms=1500),
                           BackendStats("be_c2", 100, p95_ms=100, p99_ms=3000)))
    slow = [(g.scope.name, g.severity) for g in grade_latency(facts, TH).named("latency")]
    assert slow == [("be_c2", "critical"), ("be_c1", "critical"), ("be_w", "warning")]


def test_a_slow_backend_against_its_own_window_before() -> None:
    now = BackendStats("be_x", 3000, p95_ms=690, p99_ms=950)
    def trend(before: BackendStats) -> list[tuple[str, str, str]]:
        return [t for t in levels(site(backends=(now,), previous_backends={"be_x": before})) if t[0] != "latency"]
    assert trend(BackendStats("be_x", 2900, p95_ms=460, p99_ms=940)) == [("latency_rose", "be_x", "ok")]  # 1.5×
    assert trend(BackendStats("be_x", 2900, p95_ms=461, p99_ms=940)) == [("latency_steady", "be_x", "ok")]
    assert trend(BackendStats("be_x", 19, p95_ms=10, p99_ms=10)) == []  # too few before: no comparison
    grades = grade_latency(site(backends=(now,), previous_backends={"be_x": BackendStats("be_x", 2900, p95_ms=460)}), TH)
    rose = grades.first("latency_rose")
    assert rose and rose.scope == ScopeRef.backend("be_x") and rose.numbers == {"previous_p95_ms": 460}


def test_a_healthy_backend_gets_no_trend() -> None:
    facts = site(backends=(BackendStats("be", 100),), previous_backends={"be": BackendStats("be", 100, p95_ms=1)})
    assert levels(facts) == [("latency", "", "ok"), ("latency", "be", "ok")]

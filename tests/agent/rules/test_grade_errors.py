"""grade_errors on plain facts: no tools, no I/O."""

from __future__ import annotations

from agent_service.rules.errors import ErrorFacts, dominant_server, grade_errors
from agent_service.rules.facts import BackendStats, ServerStats
from agent_service.rules.grades import ScopeRef
from tests.agent.rules.thresholds import for_

TH = for_("errors")  # 5xx: warning above 5 %, critical above 10 %; 4xx: warning above 20 %; 20 requests


def site(rate5: float = 0.0, rate4: float = 0.0, requests: int = 1000, **kw: object) -> ErrorFacts:
    return ErrorFacts(requests=requests, errors_4xx=int(rate4 * requests / 100), rate_5xx=rate5, rate_4xx=rate4, **kw)  # type: ignore[arg-type]


def test_below_min_requests_nothing_is_judged() -> None:
    grades = grade_errors(site(rate5=90.0, requests=19), TH)
    assert not grades.judged and grades.severity == "ok" and grades.items == ()
    assert grade_errors(site(rate5=90.0, requests=20), TH).severity == "critical"


def test_site_5xx_at_the_limits_stays_at_the_lower_level() -> None:
    assert grade_errors(site(rate5=5.0), TH).severity == "ok"
    assert grade_errors(site(rate5=5.01), TH).severity == "warning"
    assert grade_errors(site(rate5=10.0), TH).severity == "warning"
    assert grade_errors(site(rate5=10.01), TH).severity == "critical"
    grade = grade_errors(site(rate5=10.01), TH).first("error_rate_5xx")
    assert grade and grade.scope == ScopeRef() and grade.numbers == {"rate_pct": 10.01, "requests": 1000}
    assert grade.evidence == ("get_overview",)


def test_site_4xx_warns_strictly_above_its_threshold() -> None:
    assert grade_errors(site(rate4=20.0), TH).severity == "ok"
    assert grade_errors(site(rate4=20.1), TH).named("error_rate_4xx")[0].severity == "warning"


def test_failing_backends_worst_first_by_error_count_and_small_ones_unjudged() -> None:
    backends = (BackendStats("be_a", 100, error_rate_5xx_pct=30.0), BackendStats("be_b", 1000, error_rate_5xx_pct=6.0),
                BackendStats("be_tiny", 19, error_rate_5xx_pct=100.0), BackendStats("be_ok", 500))
    grades = grade_errors(site(rate5=1.0, backends=backends), TH)
    bad = [(g.scope.name, g.severity) for g in grades.named("error_rate_5xx")]
    assert bad == [("be_b", "warning"), ("be_a", "critical")]  # 60 errors before 30
    assert grades.severity == "critical"
    assert all(g.scope.name != "be_tiny" for g in grades.items)


def test_the_server_that_answers_most_5xx_is_graded_on_its_own_scope() -> None:
    pool = (ServerStats("app1", 500, errors_5xx=5), ServerStats("app2", 500, errors_5xx=495, error_rate_5xx_pct=99.0))
    grades = grade_errors(site(rate5=50.0, backends=(BackendStats("be_api", 1000, 50.0, servers=pool),)), TH)
    server = grades.named("server_dominates_5xx")
    assert [g.scope for g in server] == [ScopeRef.server("be_api", "app2")]
    assert server[0].numbers["rate_pct"] == 99.0 and server[0].numbers["share"] == 0.99


def test_dominant_server_needs_the_share_and_two_servers() -> None:
    spread = BackendStats("be", 1000, 20.0, servers=(ServerStats("a", 500, 60), ServerStats("b", 500, 40)))
    assert dominant_server(spread, 0.6) == ("a", 0.6, 0.0)  # at the share: named
    assert dominant_server(spread, 0.61) is None
    assert dominant_server(BackendStats("be", 10, servers=(ServerStats("a", 10, 10),)), 0.6) is None
    from_rate = BackendStats("be", 200, servers=(ServerStats("a", 100, 0, 50.0), ServerStats("b", 100)))
    assert dominant_server(from_rate, 0.6) == ("a", 1.0, 50.0)  # the count from the rate when absent


def test_a_probed_backend_above_the_4xx_threshold_warns_with_its_top_codes() -> None:
    facts = site(rate4=12.0, backend_codes={
        "be_hooks": {"401": 980, "400": 20, "200": 200}, "be_api": {"200": 7700, "404": 100},
        "be_small": {"401": 19}})
    grades = grade_errors(facts, TH)
    bad = grades.named("error_rate_4xx")
    assert [g.scope.name for g in bad] == ["be_hooks"] and grades.severity == "warning"
    assert bad[0].numbers == {"rate_pct": 83.3, "requests": 1200.0, "status_401": 980.0, "status_400": 20.0}


def test_thresholds_come_from_settings() -> None:
    strict = for_("errors", error_5xx_warning_pct=1.0, error_5xx_critical_pct=2.0, min_requests=5)
    assert grade_errors(site(rate5=2.5, requests=5), strict).severity == "critical"

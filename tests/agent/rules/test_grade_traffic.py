"""grade_traffic on plain facts: no tools, no I/O."""

from __future__ import annotations

from agent_service.rules.grades import ScopeRef
from agent_service.rules.traffic import TrafficFacts, grade_traffic, needs_latest, series_drop, series_surge
from tests.agent.rules.thresholds import for_

TH = for_("traffic")  # drop: more than 80 % is critical; surge: more than 200 % is a warning; 20 requests


def window(requests: int, previous: int, minutes: int = 15, **kw: object) -> TrafficFacts:
    return TrafficFacts(minutes=minutes, requests=requests, previous_requests=previous,
                        rps=requests / (60 * minutes), previous_rps=previous / (60 * minutes), **kw)  # type: ignore[arg-type]


def names(facts: TrafficFacts) -> list[tuple[str, str, str]]:
    return [(g.name, g.severity, g.scope.name) for g in grade_traffic(facts, TH).items]


def test_zero_after_a_known_window_is_a_critical_drop() -> None:
    assert names(window(0, 8800)) == [("traffic_drop", "critical", "")]
    assert names(window(0, 19)) == []  # the window before was too small to be a baseline


def test_a_drop_at_exactly_the_threshold_is_not_one() -> None:
    assert names(window(200, 1000)) == []  # 80 % lower: the limit itself
    assert names(window(199, 1000)) == [("traffic_drop", "critical", "")]


def test_drop_inside_the_window_from_the_series() -> None:
    facts = window(6000, 0, series=(600,) * 10 + (0,) * 5)
    grades = grade_traffic(facts, TH)
    assert [g.name for g in grades.items] == ["traffic_drop_in_window"]
    assert grades.items[0].numbers == {"typical_per_minute": 600, "latest_per_minute": 0}


def test_series_rules_at_their_edges() -> None:
    assert series_drop([100, 100, 100], TH) is None  # fewer than 4 minutes
    assert series_drop([4] * 10 + [0] * 3, TH) is None  # 4 a minute: empty minutes are chance
    assert series_drop([5] * 10 + [1] * 3, TH) == (5, 1)  # 5 a minute, at most 80 % lower
    assert series_drop([100] * 10 + [20, 20, 21], TH) is None
    assert series_surge([100] * 10 + [300] * 3, TH) == (100, 300)  # exactly 200 % more
    assert series_surge([100] * 10 + [299, 300, 300], TH) is None
    assert series_surge([0] * 10 + [300] * 3, TH) is None  # nothing before: the logs just started


def test_a_surge_needs_a_covered_window_before() -> None:
    covered = window(27000, 6000, before=(400,) * 15)
    assert names(covered) == [("traffic_surge", "warning", "")]
    started = window(27000, 1200, before=(0,) * 14 + (1200,))
    assert names(started) == []


def test_a_backend_gone_against_its_covered_window_before() -> None:
    facts = window(6000, 8800, before=(600,) * 15, backends={"be_api": 6000},
                   previous_backends={"be_api": 5900, "be_pay": 2900})
    grades = grade_traffic(facts, TH)
    assert [(g.name, g.scope) for g in grades.items] == [("backend_traffic_drop", ScopeRef.backend("be_pay"))]
    assert grades.items[0].numbers == {"requests": 0, "previous_requests": 2900}


def test_a_backend_silent_in_the_latest_minutes() -> None:
    facts = window(9000, 8700, before=(600,) * 15, backends={"be_api": 6000, "be_static": 3000},
                   previous_backends={"be_api": 5900, "be_static": 2900})
    assert needs_latest(facts, TH)
    assert names(facts) == []  # not judged until the latest minutes are read
    from dataclasses import replace
    latest = replace(facts, latest_backends={"be_static": 600})
    assert names(latest) == [("backend_traffic_drop_in_window", "critical", "be_api")]


def test_backends_are_not_judged_when_the_site_dropped_or_alone() -> None:
    dropped = window(0, 8800, backends={}, previous_backends={"a": 5000, "b": 3800})
    assert not needs_latest(dropped, TH)
    assert [g.name for g in grade_traffic(dropped, TH).items] == ["traffic_drop"]
    alone = window(6000, 5900, backends={"a": 6000}, previous_backends={"a": 5900})
    assert not needs_latest(alone, TH)


def test_the_drop_threshold_comes_from_settings() -> None:
    strict = for_("traffic", traffic_drop_critical_pct=50.0)
    assert [g.name for g in grade_traffic(window(499, 1000), strict).items] == ["traffic_drop"]

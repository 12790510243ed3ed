"""The scorer: each expectation passes and fails on its own, and the summary counts right."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios.model import Expect
from tests.scenarios.score import failed, score, summarize

EXPECT = Expect.model_validate({
    "overall_severity": "critical",
    "flagged": ["latency", "errors"],
    "ok": ["traffic"],
    "backend": "be_api",
    "keywords": [["rollback", "roll back"], ["deploy"]],
})


def _report(**overrides: Any) -> dict[str, Any]:
    severities = {"latency": "critical", "errors": "warning", "saturation": "ok", "traffic": "ok"}
    severities.update(overrides.pop("severities", {}))
    report: dict[str, Any] = {
        "overall_severity": "critical",
        "title": "be_api: P99 2.1 s and 14% 5xx",
        "diagnosis": "Latency and 5xx rose together on be_api at 14:12, which looks like a bad deploy.",
        "recommendations": ["Roll back the latest release of be_api."],
        "findings": [{"specialist": name, "severity": sev, "summary": "", "details": ""}
                     for name, sev in severities.items()],
        "engine": {"kind": "anthropic", "input_tokens": 1000, "output_tokens": 200,
                   "cache_read_input_tokens": 500, "cache_creation_input_tokens": 0, "cost_usd": 0.0123},
        "duration_ms": 850.0,
    }
    report.update(overrides)
    return report


def test_a_matching_report_passes_with_its_usage() -> None:
    result = score("deploy", EXPECT, _report(), wall_ms=900)
    assert result.passed, result.reasons
    assert (result.true_flags, result.false_flags, result.missed_flags) == (2, 0, 0)
    assert result.backend_ok and result.keywords_ok and result.severity_ok
    assert (result.input_tokens, result.output_tokens, result.cost_usd) == (1500, 200, 0.0123)
    assert (result.duration_ms, result.wall_ms, result.engine) == (850.0, 900, "anthropic")


@pytest.mark.parametrize("change, reason", [
    ({"overall_severity": "warning"}, "overall_severity is 'warning', expected critical"),
    ({"severities": {"errors": "ok"}}, "errors should flag (warning/critical) but is 'ok'"),
    ({"severities": {"latency": "unknown"}}, "latency should flag (warning/critical) but is 'unknown'"),
    ({"severities": {"traffic": "warning"}}, "traffic should stay ok but is 'warning'"),
    ({"severities": {"traffic": "unknown"}}, "traffic should stay ok but is 'unknown'"),
    ({"title": "P99 up", "diagnosis": "Latency rose after a deploy.", "recommendations": ["Roll back."]},
     "backend 'be_api' is not named"),
    ({"title": "be_api2 slow", "diagnosis": "be_api2 after a deploy", "recommendations": ["rollback"]},
     "backend 'be_api' is not named"),
    ({"diagnosis": "be_api is slow.", "recommendations": ["Roll back."]}, "none of ['deploy']"),
    ({"recommendations": ["Scale out."]}, "none of ['rollback', 'roll back']"),
])
def test_each_expectation_fails_on_its_own(change: dict[str, Any], reason: str) -> None:
    result = score("deploy", EXPECT, _report(**change))
    assert not result.passed
    assert any(r.startswith(reason) for r in result.reasons), result.reasons


def test_backend_named_in_a_finding_counts_and_keywords_ignore_case() -> None:
    report = _report(title="Incident", diagnosis="A DEPLOY broke things.", recommendations=["ROLLBACK now"])
    report["findings"][0]["details"] = "p99 of be_api is 2100 ms"
    assert score("deploy", EXPECT, report).passed


def test_severity_may_be_one_of_a_list_and_unlisted_specialists_are_free() -> None:
    expect = Expect.model_validate({"overall_severity": ["warning", "critical"], "flagged": ["errors"]})
    assert score("x", expect, _report(overall_severity="warning", severities={"saturation": "critical"})).passed


def test_summary_accuracy_precision_recall_and_costs() -> None:
    healthy = Expect.model_validate({"overall_severity": "ok", "ok": ["latency", "errors", "saturation", "traffic"]})
    false_alarm = _report(overall_severity="warning",
                          severities={"latency": "warning", "errors": "ok", "saturation": "ok", "traffic": "ok"})
    scores = [
        score("deploy", EXPECT, _report(), wall_ms=100),  # 2 true flags
        score("healthy", healthy, false_alarm, wall_ms=300),  # 1 false flag, severity wrong
        failed("down", EXPECT, "ConnectError: refused", wall_ms=0),  # 2 missed flags
    ]
    summary = summarize(scores)
    assert (summary.scenarios, summary.passed, summary.failures) == (3, 1, ["healthy", "down"])
    assert summary.severity_accuracy == pytest.approx(1 / 3, abs=1e-4)
    assert summary.flag_precision == pytest.approx(2 / 3, abs=1e-4)
    assert summary.flag_recall == pytest.approx(2 / 4, abs=1e-4)
    assert summary.backend_accuracy == 0.5 and summary.keyword_accuracy == 0.5
    assert summary.mean_wall_ms == pytest.approx(133.3, abs=0.1)
    assert summary.cost_usd == pytest.approx(0.0246)
    assert summarize([]).pass_rate is None


SEVERAL = Expect.model_validate({
    "overall_severity": "critical",
    "backends": ["be_api", "be_search"],
    "server": "api3",
    "forbidden": ["deploy", "roll back"],
})


def test_several_backends_a_server_and_forbidden_words_pass_when_all_hold() -> None:
    report = _report(title="be_api: api3 refuses connections; be_search slow",
                     diagnosis="api3 of be_api refuses connections (SC, retries); be_search answers slowly.",
                     recommendations=["Take be_api/api3 out of the pool."])
    result = score("two", SEVERAL, report)
    assert result.passed, result.reasons
    assert (result.backend_ok, result.server_ok, result.forbidden_ok) == (True, True, True)


def test_a_server_named_only_in_a_recommendation_counts() -> None:
    report = _report(title="be_api and be_search", diagnosis="Connections fail.",
                     recommendations=["Drain api3."])
    assert score("two", SEVERAL, report).server_ok is True


@pytest.mark.parametrize("change, reason, field", [
    ({"title": "be_api: api3 refuses", "diagnosis": "api3 refuses."}, "backend 'be_search' is not named", "backend_ok"),
    ({"title": "be_api, be_search", "diagnosis": "one server refuses", "recommendations": ["Drain api31."]},
     "server 'api3' is not named", "server_ok"),
    ({"title": "be_api/api3, be_search", "diagnosis": "refused", "recommendations": ["Roll back the release."]},
     "forbidden ['roll back'] said", "forbidden_ok"),
    ({"title": "be_api/api3, be_search", "diagnosis": "Looks like a bad DEPLOY.", "recommendations": []},
     "forbidden ['deploy'] said", "forbidden_ok"),
])
def test_each_new_expectation_fails_on_its_own(change: dict[str, Any], reason: str, field: str) -> None:
    result = score("two", SEVERAL, _report(**change))
    assert not result.passed and getattr(result, field) is False
    assert any(r.startswith(reason) for r in result.reasons), result.reasons


def test_summary_counts_servers_and_forbidden_words() -> None:
    good = _report(title="be_api/api3 and be_search", diagnosis="refused connections", recommendations=["drain"])
    bad = _report(title="be_api and be_search", diagnosis="a deploy", recommendations=["roll back"])
    summary = summarize([score("a", SEVERAL, good), score("b", SEVERAL, bad), score("c", EXPECT, _report())])
    assert summary.server_accuracy == 0.5 and summary.forbidden_clean == 0.5
    assert summarize([failed("d", SEVERAL, "down")]).forbidden_clean is None


def test_names_required_in_the_title_must_be_in_the_title_itself() -> None:
    expect = Expect.model_validate({"overall_severity": "critical", "in_title": ["be_api", "be_search"]})
    both = score("t", expect, _report(title="be_api: 502s; be_search: slow"))
    one = score("t", expect, _report(title="be_api: 502s (and 1 more)", diagnosis="be_search is slow"))
    assert both.passed and both.title_ok is True
    assert one.title_ok is False and one.reasons == ["'be_search' is not in the title"]
    assert summarize([both, one]).title_accuracy == 0.5


def test_expected_proposals_must_be_made_by_type_and_target() -> None:
    expect = EXPECT.model_copy(update={"proposals": ["drain_server be_api/api3", "escalate"]})
    drain = {"type": "drain_server", "backend": "be_api", "server": "api3"}
    made = score("s", expect, _report(proposals=[drain, {"type": "escalate", "to": "dba", "why": "x", "backend": "be_api"}]))
    assert made.proposals_ok is True and made.proposals == ["drain_server be_api/api3", "escalate be_api"]
    other = score("s", expect, _report(proposals=[{**drain, "server": "api1"}]))
    assert other.passed is False and other.proposals_ok is False
    assert any("drain_server be_api/api3" in r and "escalate" in r for r in other.reasons)
    assert score("s", EXPECT, _report()).proposals_ok is None

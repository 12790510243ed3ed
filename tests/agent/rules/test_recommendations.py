"""The deterministic synthesis' recommenders on plain findings: each speaks to one problem."""

from __future__ import annotations

from agent_service.models import Finding
from agent_service.rules.facts import read
from agent_service.rules.synthesis import _recommendations, _regression_recs, _traffic_recs


def findings(**by_name: tuple[str, dict[str, float]]) -> list[Finding]:
    out = []
    for name in ("latency", "errors", "saturation", "traffic"):
        severity, signals = by_name.get(name, ("ok", {}))
        out.append(Finding(specialist=name, severity=severity, summary="x", signals=signals))  # type: ignore[arg-type]
    return out


def test_nothing_wrong_asks_for_no_action() -> None:
    assert _recommendations(read(findings())) == ["No action needed: keep watching the golden signals."]


def test_a_regressed_backend_with_a_bad_server_takes_it_out_before_rolling_back() -> None:
    facts = read(findings(
        latency=("critical", {"p99_ms[be]": 3000.0, "latency_rose[be]": 1.0}),
        errors=("critical", {"error_rate_5xx_pct[be]": 30.0, "server_error_rate_5xx_pct[be/app2]": 90.0})))
    recs = _recommendations(facts)
    assert recs[0].startswith("Take server app2 out of the pool of be") and recs[1].startswith("Roll back")
    assert [p for p, _ in _regression_recs(facts)] == [1, 1, 4]


def test_a_steady_slow_backend_is_not_rolled_back() -> None:
    facts = read(findings(latency=("critical", {"p99_ms[be]": 3000.0, "latency_rose[be]": 0.0}),
                          errors=("critical", {"error_rate_5xx_pct[be]": 30.0})))
    assert _regression_recs(facts) == []
    assert not any(r.startswith("Roll back") for r in _recommendations(facts))
    assert any("standing slowness" in r for r in _recommendations(facts))


def test_traffic_lost_on_one_backend_names_it_and_a_silent_site_suspects_the_pipeline() -> None:
    one = _traffic_recs(read(findings(traffic=("critical", {"requests[be_pay]": 0.0}))))
    assert len(one) == 1 and "backend be_pay" in one[0][1]
    site = _traffic_recs(read(findings(traffic=("critical", {"requests": 0.0}))))
    assert [p for p, _ in site] == [0, 3] and "log pipeline" in site[1][1]

"""Every public scenario against the real stack: redis-server, ingestion-service, agent-service.

One stack per session (per engine); Redis is flushed before each scenario. The rules-engine runs
are part of `make test`; the Claude runs are marked `claude` and need ANTHROPIC_API_KEY.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.scenarios.model import Scenario, load_scenario, scenario_files, seconds
from tests.scenarios.play import Outcome, play
from tests.scenarios.stack import Stack, start_agent, start_stack
from tests.scenarios.stats import minute_window, window_stats
from tests.support.binaries import require_binary

FILES = scenario_files()
pytestmark = pytest.mark.real

# Fair scenarios the rules engine fails today, each with what it lacks. Strict: once the engine
# passes one, the XPASS fails the run and the entry must go. `make scenarios` still shows them as
# FAIL; the scenarios themselves are not weakened.
RULES_KNOWN_FAILURES: dict[str, str] = {}

def _rules_param(path: Path) -> object:
    reason = RULES_KNOWN_FAILURES.get(path.stem)
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(path, id=path.stem, marks=marks)


def _stack(engine: str) -> Iterator[Stack]:
    stack = start_stack(engine=engine, redis_binary=require_binary("redis-server"))  # type: ignore[arg-type]
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def rules_stack() -> Iterator[Stack]:
    yield from _stack("rules")


@pytest.fixture(scope="session")
def claude_stack() -> Iterator[Stack]:
    if not os.environ.get("ANTHROPIC_API_KEY"):
        pytest.skip("ANTHROPIC_API_KEY is not set")
    yield from _stack("anthropic")


def _explain(outcome: Outcome, stack: Stack) -> str:
    report = outcome.report or {}
    findings = "\n".join(f"  {f.get('specialist')}: {f.get('severity')} — {f.get('summary')}"
                         for f in report.get("findings") or [])
    return (
        f"scenario {outcome.scenario.name} failed:\n- " + "\n- ".join(outcome.score.reasons)
        + f"\nreport: {report.get('overall_severity')} | {report.get('title')}\n{report.get('diagnosis')}\n"
        + f"recommendations: {report.get('recommendations')}\nfindings:\n{findings}\n"
        + ("" if outcome.report else stack.logs())
    )


@pytest.mark.parametrize("path", [_rules_param(p) for p in FILES])
def test_scenario_with_rules_engine(path: Path, rules_stack: Stack) -> None:
    outcome = play(load_scenario(path), rules_stack)
    assert outcome.report is not None and outcome.report["engine"]["kind"] == "rules"
    assert outcome.score.passed, _explain(outcome, rules_stack)


@pytest.mark.claude
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_with_claude(path: Path, claude_stack: Stack) -> None:
    outcome = play(load_scenario(path), claude_stack)
    assert outcome.report is not None and outcome.report["engine"]["kind"] == "anthropic"
    assert outcome.score.passed, _explain(outcome, claude_stack)


def _overview(stack: Stack, start: float, window: float) -> dict[str, object]:
    from datetime import UTC, datetime

    end = datetime.fromtimestamp(start + window - 0.001, tz=UTC).isoformat()
    response = httpx.get(f"{stack.ingestion_url}/metrics/overview",
                         params={"window": f"{int(window // 60)}m", "end": end}, timeout=10,
                         headers={"Authorization": f"Bearer {stack.ingest_token}"})
    response.raise_for_status()
    return response.json()


COUNTED = {
    "name": "ingestion-count-check",
    "description": "Small mixed traffic with <NOSRV>, 4xx, 5xx and server state lines.",
    "duration": "10m",
    "seed": 99,
    "analyze": {"window": "5m"},
    "baseline": {"backends": [
        {"name": "be_pay", "frontend": "fe_main", "rps": 2, "servers": ["pay1", "pay2"],
         "latency": {"p50_ms": 80, "p95_ms": 250}, "status": {200: 0.9, 402: 0.06, 500: 0.04}},
        {"name": "be_web", "frontend": "fe_main", "rps": 2, "servers": ["web1"],
         "latency": {"p50_ms": 20, "p95_ms": 60}, "status": {200: 0.9, 404: 0.1}},
    ]},
    "phases": [{"start": "6m", "backend": "be_pay", "nosrv": {"rate": 1.0},
                "message": "backend be_pay has no server available!"}],
    "expect": {"overall_severity": "critical", "flagged": ["errors"], "backend": "be_pay"},
}


@pytest.mark.parametrize("transport", ["http", "syslog", "mixed"])
def test_ingestion_counts_what_the_generator_wrote(transport: str, rules_stack: Stack) -> None:
    """The same lines over HTTP, syslog UDP or both (mixed: headerless and syslog-header lines in
    one HTTP body, a share over UDP): ingestion's counts equal the generator's own."""
    scenario = Scenario.model_validate(COUNTED)
    outcome = play(scenario, rules_stack, transport=transport, aligned=True, udp_rate=1000)  # type: ignore[arg-type]
    assert outcome.ingest is not None and outcome.report is not None
    window = seconds(scenario.analyze.window)
    start, stop = minute_window(outcome.generated.end, window)
    local = window_stats(outcome.generated.requests, start, stop)
    previous = window_stats(outcome.generated.requests, start - window, start)
    overview = _overview(rules_stack, start, window)
    if transport == "http":
        assert (outcome.ingest.accepted, outcome.ingest.rejected, outcome.ingest.skipped) == (
            len(outcome.generated.requests), 0, len(outcome.generated.messages))
    assert (overview["total_requests"], overview["errors_4xx"], overview["errors_5xx"]) == (
        local.total, local.errors_4xx, local.errors_5xx)
    prev = overview["previous"]
    assert isinstance(prev, dict)
    assert (prev["total_requests"], prev["errors_5xx"]) == (previous.total, previous.errors_5xx)
    assert outcome.score.passed, _explain(outcome, rules_stack)


def test_anthropic_engine_usage_and_a_wrong_diagnosis_are_scored(rules_stack: Stack) -> None:
    """The Claude path offline: the real SDK in agent-service against the fake Messages API, whose
    scripted model calls tools then says `ok`. Tokens and cost reach the score; the scripted `ok`
    passes a healthy scenario and fails an incident."""
    from tests.fakes.anthropic_api import FakeAnthropic, agent_script

    fake = FakeAnthropic(api_key="scenario-key").respond_with(agent_script(tool_turns=1))
    with fake.serve() as fake_url:
        env = {"ANTHROPIC_API_KEY": "scenario-key", "ANTHROPIC_BASE_URL": fake_url}
        stack = start_agent(rules_stack, engine="anthropic", env=env)
        try:
            by_name = {p.stem: p for p in FILES}
            healthy = play(load_scenario(by_name["healthy-low-traffic"]), stack)
            incident = play(load_scenario(by_name["deploy-regression"]), stack)
        finally:
            stack.stop()
    assert healthy.score.engine == incident.score.engine == "anthropic"
    assert healthy.score.passed, _explain(healthy, stack)
    assert not incident.score.passed
    assert any(r.startswith("overall_severity is 'ok'") for r in incident.score.reasons)
    assert incident.score.missed_flags == 2 and incident.score.keywords_ok is False
    assert healthy.score.input_tokens > 0 and healthy.score.output_tokens > 0
    assert healthy.score.cost_usd > 0
    assert len(fake.requests) >= 2 * (4 * 2 + 1)  # per analysis: 4 specialists × 2 turns + synthesis

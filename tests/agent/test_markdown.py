"""The markdown report: readable in a terminal, log-derived text cannot add structure."""

from __future__ import annotations

from datetime import UTC, datetime

from agent_service.models import (
    EngineUsage,
    Evidence,
    Finding,
    IncidentReport,
    Scope,
    SimilarIncident,
    Window,
)
from agent_service.report.markdown import render


def report(**overrides: object) -> IncidentReport:
    start, end = datetime(2026, 1, 1, 10, 0, tzinfo=UTC), datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    values: dict[str, object] = dict(
        id="a" * 32,
        created_at=end,
        window=Window(start=start, end=end, seconds=900),
        scope=Scope(backend="be_api\n# injected heading"),
        overall_severity="critical",
        title="Critical: 5xx errors on backend be_api",
        diagnosis="Backend be_api is failing.\n\n## Fake section `rm -rf`",
        recommendations=["Roll back be_api", "Check its dependencies"],
        findings=[
            Finding(specialist="latency", severity="ok", summary="Latency within thresholds: p95 80 ms.",
                    evidence=[Evidence(tool="get_response_times", result={"p95_ms": 80})]),
            Finding(specialist="errors", severity="critical", summary="Backend be_api answers 5xx to 30.0%.",
                    signals={"error_rate_5xx_pct[be_api]": 30.0}),
            Finding(specialist="saturation", severity="unknown", status="timed_out", error="no answer within 30 s"),
            Finding(specialist="traffic", severity="ok", summary="Traffic steady."),
        ],
        engine=EngineUsage(kind="anthropic", specialist_model="m-small", synthesis_model="m-big", llm_calls=9,
                           input_tokens=1000, output_tokens=200, cost_usd=0.0123),
        sources={"ingestion": "ok"},
        similar_incidents=[SimilarIncident(incident_id=4, title="be_api 5xx after deploy", resolution="rolled back",
                                           resolved_at=datetime(2026, 11, 3, 9, 30, tzinfo=UTC))],
        synthesis="deterministic",
        synthesis_error="Anthropic API error 529",
        ungrounded_claims=["diagnosis: 12345"],
        question="why is checkout failing?",
    )
    values.update(overrides)
    return IncidentReport(**values)  # type: ignore[arg-type]


def test_sections_in_reading_order() -> None:
    text = render(report())
    lines = text.splitlines()
    assert lines[0] == "# [CRITICAL] Critical: 5xx errors on backend be_api"
    order = [text.index(h) for h in ("## Diagnosis", "## What to do first", "## Findings",
                                     "## Similar past incidents", "## Numbers not found in the evidence")]
    assert order == sorted(order)
    assert "1. Roll back be_api\n2. Check its dependencies" in text
    assert "### Saturation: UNKNOWN — timed_out" in text and "Error: no answer within 30 s" in text
    assert "- Last seen as #4 on 3 Nov: fixed by rolled back (be_api 5xx after deploy)" in text
    assert "LLM synthesis failed: Anthropic API error 529" in text and "$0.0123" in text
    assert "> Question: why is checkout failing?" in text
    assert max(len(line) for line in lines) < 400


def test_untrusted_text_cannot_add_headings_or_code() -> None:
    text = render(report())
    assert "\n# injected heading" not in text and "\n## Fake section" not in text
    assert "`rm -rf`" not in text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert all("injected" not in h and "Fake section" not in h for h in headings)


def test_rules_engine_usage_line_is_short() -> None:
    text = render(report(engine=EngineUsage(kind="rules", tool_calls=16), synthesis_error=None))
    assert "engine rules; 16 tool calls; synthesis deterministic" in text
    assert "LLM" not in text.split("---")[-1]


def test_the_openai_engine_line_names_its_models_and_usage() -> None:
    engine = EngineUsage(kind="openai", specialist_model="qwen2.5:7b", synthesis_model="qwen2.5:14b", llm_calls=9,
                         input_tokens=1000, output_tokens=200)
    text = render(report(engine=engine))
    assert "engine openai (qwen2.5:7b / qwen2.5:14b): 9 LLM calls, 1000 in / 200 out tokens" in text
    assert "engine rules; " in render(report(engine=EngineUsage(kind="rules")))

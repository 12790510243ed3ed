"""Against the real Anthropic API (marker `claude`): skipped unless ANTHROPIC_API_KEY is set.
Never in CI. Checks what the fake cannot: that the real API accepts our requests (seeded tool
results, the forced last turn with the other tools withheld, cache_control) and that a real model
answers through report_finding / report_synthesis."""

from __future__ import annotations

import os

import pytest

from agent_service.llm.client import LlmConfig
from agent_service.llm.anthropic_engine import AnthropicEngine
from tests.agent.llm.conftest import FakeTool, context, spec

pytestmark = [
    pytest.mark.claude,
    pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"), reason="needs ANTHROPIC_API_KEY (real API)"),
]


async def test_real_model_investigates_and_synthesizes() -> None:
    engine = AnthropicEngine(LlmConfig(api_key=os.environ["ANTHROPIC_API_KEY"], max_steps=2))
    try:
        overview = FakeTool("overview", {"p95_ms": 1840.0, "p99_ms": 3100.0, "requests": 52000, "backend": "be_api"})
        finding, usage = await engine.investigate(spec(), [overview], context(backend="be_api"))
        assert finding.status == "completed", finding.error
        assert finding.severity in ("warning", "critical")
        assert usage.llm_calls >= 1 and usage.cost_usd > 0
        synthesis, _ = await engine.synthesize([finding], context(), [])
        assert synthesis.title and synthesis.diagnosis
    finally:
        await engine.aclose()

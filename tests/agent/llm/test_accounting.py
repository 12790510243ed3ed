"""Prices, cost, metrics and prompt templates."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from agent_service.llm.metrics import LlmMetrics
from agent_service.llm.pricing import ModelPrice, PriceTable
from agent_service.prompts import format_thresholds, render, template_names
from tests.agent.llm.conftest import FakeTool, context, spec
from tests.fakes.anthropic_api import api_error, finding_turn, tool_use_turn


def test_cost_per_million_tokens_by_kind() -> None:
    table = PriceTable()
    cost = table.cost(
        "claude-haiku-4-5",
        input_tokens=1_000_000,
        output_tokens=200_000,
        cache_read_input_tokens=500_000,
        cache_creation_input_tokens=100_000,
    )
    assert cost == pytest.approx(1.0 + 1.0 + 0.05 + 0.125)
    assert table.cost("claude-sonnet-4-6", input_tokens=1_000_000, output_tokens=0) == pytest.approx(3.0)


def test_dated_model_ids_use_their_alias_and_overrides_win() -> None:
    table = PriceTable({"claude-haiku-4-5": ModelPrice(input=2, output=10, cache_read=0.2, cache_write=2.5)})
    assert table.price("claude-haiku-4-5-20251001") == table.price("claude-haiku-4-5")
    assert table.cost("claude-haiku-4-5-20251001", input_tokens=1_000_000, output_tokens=0) == pytest.approx(2.0)
    assert table.price("gpt-4") is None and table.cost("gpt-4", input_tokens=10**6, output_tokens=10**6) == 0.0


async def test_metrics_count_calls_tokens_cost_and_tool_calls(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    registry = CollectorRegistry()
    metrics = LlmMetrics(registry)
    fake.enqueue(tool_use_turn(("overview", {}), ("ghost", {})), finding_turn())
    _, usage = await engine_for(url, metrics=metrics).investigate(spec(), [FakeTool("overview", {"rps": 1})], context())
    sample = registry.get_sample_value
    model = {"model": "claude-haiku-4-5"}
    assert sample("oncall_llm_calls_total", {**model, "role": "specialist", "outcome": "ok"}) == 2
    assert sample("oncall_llm_tokens_total", {**model, "kind": "input"}) == usage.input_tokens
    assert sample("oncall_llm_tokens_total", {**model, "kind": "output"}) == usage.output_tokens
    assert sample("oncall_llm_tokens_total", {**model, "kind": "cache_read"}) == usage.cache_read_input_tokens
    assert sample("oncall_llm_cost_usd_total", model) == pytest.approx(usage.cost_usd)
    assert sample("oncall_tool_calls_total", {"specialist": "latency", "tool": "overview", "status": "ok"}) == 1
    assert sample("oncall_tool_calls_total", {"specialist": "latency", "tool": "__unknown__", "status": "error"}) == 1

    fake.enqueue(api_error(400, "invalid_request_error"))
    await engine_for(url, metrics=metrics).investigate(spec(), [], context())
    assert sample("oncall_llm_calls_total", {**model, "role": "specialist", "outcome": "error"}) == 1


@pytest.mark.parametrize("name", ["latency", "errors", "saturation", "traffic"])
def test_specialist_templates_render_with_their_thresholds(name: str) -> None:
    text = render(name, specialist=name, thresholds=format_thresholds({"x_warning_pct": 5.0}), max_steps=6)
    assert f"the {name} specialist" in text and "x_warning_pct = 5" in text and "6 turns" in text
    assert "{{" not in text and "{%" not in text


def test_templates_are_known_by_name_and_strict() -> None:
    assert {"latency", "errors", "saturation", "traffic", "synthesis", "handoff"} <= set(template_names())
    with pytest.raises(ValueError):
        render("nope")
    with pytest.raises(ValueError):
        render("../settings")
    with pytest.raises(Exception, match="specialist"):
        render("latency", thresholds=[], max_steps=6)  # a missing value is an error, not an empty string
    assert "at most 250 words" in render("handoff")  # the handoff's length has a default


def test_config_from_settings_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_service.llm.client import LlmConfig, build_client
    from agent_service.settings import Settings

    monkeypatch.setenv("ANTHROPIC_API_KEY", "k-1")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MAX_STEPS", "3")
    monkeypatch.setenv("LLM_TIMEOUT_S", "12")
    monkeypatch.setenv("LLM_PRICES", '{"claude-haiku-4-5": {"input": 2, "output": 8, "cache_read": 0.2, "cache_write": 2.5}}')
    config = LlmConfig.from_settings(Settings())
    assert (config.max_steps, config.timeout_s, config.specialist_model) == (3, 12.0, "claude-haiku-4-5")
    assert config.price_table().cost("claude-haiku-4-5", input_tokens=10**6, output_tokens=0) == pytest.approx(2.0)
    client = build_client(config)
    assert str(client.base_url).startswith("http://127.0.0.1:9") and client.max_retries == 2
    assert client.timeout.read == 12.0  # type: ignore[union-attr]

    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        LlmConfig.from_settings(Settings())

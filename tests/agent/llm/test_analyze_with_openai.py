"""POST /analyze with LLM_ENGINE=openai: the app builds the OpenAI-compatible engine from the
OPENAI_* settings, the real openai SDK talks to the fake chat-completions server, the tools read
a fake ingestion; failures stay contained; untrusted text reaches the model only in tool messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from agent_service.app import build_engine, handoff_writer
from tests.agent.helpers import settings
from tests.agent.llm.conftest import API_KEY
from tests.agent.llm.test_analyze_with_claude import INJECTION, run_analysis
from tests.fakes.openai_api import FakeOpenAI, Reply, agent_script, api_error


def openai_settings(base_url: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "llm_engine": "openai", "openai_base_url": base_url, "openai_api_key": API_KEY,
        "openai_specialist_model": "llama3.1:8b", "openai_synthesis_model": "qwen2.5:14b", "llm_max_retries": 0,
    }
    return settings(**{**values, **overrides})


def script(failing_specialist: str) -> Any:
    normal = agent_script(2)

    def handle(body: dict[str, Any]) -> Reply:
        if f"the {failing_specialist} specialist" in body["messages"][0]["content"]:
            return api_error(400, "scripted bad request")
        return normal(body)

    return handle


@pytest.mark.parametrize("supports_tools", [True, False])
async def test_analyze_runs_the_specialists_and_the_synthesis_through_an_openai_compatible_server(
    fake_redis, supports_tools: bool
) -> None:
    fake = FakeOpenAI(api_key=API_KEY)
    fake.respond_with(script("errors"))
    with fake.serve() as url:
        report, metrics = await run_analysis(openai_settings(f"{url}/v1", openai_supports_tools=supports_tools), fake_redis)

    by_name = {f["specialist"]: f for f in report["findings"]}
    assert by_name["errors"]["status"] == "failed" and "400" in by_name["errors"]["error"]
    for name in ("latency", "saturation", "traffic"):
        assert by_name[name]["status"] == "completed" and by_name[name]["evidence"], name
    assert report["synthesis"] == "llm" and report["title"] == "Scripted incident"
    engine = report["engine"]
    assert (engine["kind"], engine["specialist_model"], engine["synthesis_model"]) == ("openai", "llama3.1:8b", "qwen2.5:14b")
    assert engine["llm_calls"] == (3 * 3 + 1 if supports_tools else 3 + 1)
    assert engine["tool_calls"] > 0 and engine["input_tokens"] > 0 and engine["cost_usd"] == 0
    assert 'oncall_llm_calls_total{model="llama3.1:8b",outcome="error",role="specialist"} 1.0' in metrics
    assert 'oncall_llm_calls_total{model="qwen2.5:14b",outcome="ok",role="synthesis"} 1.0' in metrics
    assert "oncall_tool_calls_total{" in metrics
    for body in fake.bodies:  # ingestion's backend name never reaches a prompt
        assert INJECTION not in json.dumps([m for m in body["messages"] if m["role"] != "tool"])


def test_the_openai_engine_needs_its_server_and_model_and_writes_handoffs() -> None:
    with pytest.raises(ValidationError, match="OPENAI_BASE_URL and OPENAI_SPECIALIST_MODEL"):
        settings(llm_engine="openai", openai_base_url="http://127.0.0.1:11434/v1")
    cfg = settings(llm_engine="openai", openai_base_url="http://127.0.0.1:11434/v1", openai_specialist_model="m")
    engine = build_engine(cfg)
    assert engine.kind == "openai" and engine.synthesis_model == "m"  # the synthesis model defaults to it
    assert handoff_writer(cfg, engine) is engine

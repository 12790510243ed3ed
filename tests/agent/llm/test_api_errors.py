"""API trouble: SDK retries on 429/529/500, errors after retries, auth, hung calls and deadlines."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from prometheus_client import CollectorRegistry

from agent_service.llm.metrics import LlmMetrics

from tests.agent.llm.conftest import API_KEY, FakeTool, context, spec
from tests.fakes.anthropic_api import api_error, finding_turn, hang, tool_use_turn


async def test_429_529_500_are_retried_by_the_sdk_and_the_finding_completes(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    fake.enqueue(api_error(429), api_error(529), finding_turn("ok", "Fine."))
    finding, usage = await engine_for(url, max_retries=2).investigate(spec(), [], context())
    assert finding.status == "completed"
    assert len(fake.requests) == 3
    assert [r.headers.get("x-stainless-retry-count") for r in fake.requests] == ["0", "1", "2"]
    assert usage.llm_calls == 1  # only the answered call is billed


async def test_500_mid_loop_is_retried(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    fake.enqueue(tool_use_turn(("overview", {})), api_error(500), finding_turn())
    finding, _ = await engine_for(url).investigate(spec(), [FakeTool("overview", {"p95_ms": 3})], context())
    assert finding.status == "completed" and len(fake.requests) == 3
    assert fake.bodies[1] == fake.bodies[2]  # the retry re-sent the same conversation


async def test_errors_after_the_sdk_retries_give_a_failed_finding_with_the_reason(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    tool = FakeTool("overview", {"p95_ms": 3})
    fake.enqueue(tool_use_turn(("overview", {})), api_error(529, text="Overloaded"), api_error(529), api_error(529))
    finding, usage = await engine_for(url, max_retries=2).investigate(spec(), [tool], context())
    assert finding.status == "failed" and finding.severity == "unknown"
    assert "529" in (finding.error or "") and "2 retries" in (finding.error or "")
    assert [e.tool for e in finding.evidence] == ["overview"]  # what ran before the failure is kept
    assert usage.llm_calls == 1 and usage.tool_calls == 1


async def test_wrong_key_is_not_retried_and_fails_the_finding(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    finding, _ = await engine_for(url, api_key="wrong").investigate(spec(), [], context())
    assert finding.status == "failed" and "401" in (finding.error or "")
    assert len(fake.requests) == 1 and fake.requests[0].auth is None


def test_fake_accepts_x_api_key_and_bearer_and_rejects_others(fake_llm) -> None:
    fake, url = fake_llm
    fake.enqueue(finding_turn(), finding_turn())
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    assert httpx.post(f"{url}/v1/messages", json=body, headers={"x-api-key": API_KEY}).status_code == 200
    assert httpx.post(f"{url}/v1/messages", json=body, headers={"authorization": f"Bearer {API_KEY}"}).status_code == 200
    assert httpx.post(f"{url}/v1/messages", json=body, headers={"x-api-key": "nope"}).status_code == 401
    assert [r.auth for r in fake.requests] == ["x-api-key", "bearer", None]


def test_fake_rejects_a_tool_use_left_without_its_tool_result(fake_llm) -> None:
    fake, url = fake_llm
    body = {
        "model": "m",
        "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "x", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "?"}]},
        ],
    }
    answer = httpx.post(f"{url}/v1/messages", json=body, headers={"x-api-key": API_KEY})
    assert answer.status_code == 400 and "toolu_1" in answer.json()["error"]["message"]


async def test_hung_call_is_cut_by_the_orchestrator_deadline(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    fake.enqueue(hang())
    registry = CollectorRegistry()
    engine = engine_for(url, timeout_s=30.0, metrics=LlmMetrics(registry))
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(engine.investigate(spec(), [], context()), 0.5)
    assert time.monotonic() - started < 5  # the hang lasts 60 s: the deadline, not the fake, ended it
    assert len(fake.requests) == 1
    labels = {"model": "claude-haiku-4-5", "role": "specialist", "outcome": "cancelled"}
    assert registry.get_sample_value("oncall_llm_calls_total", labels) == 1


async def test_hung_call_hits_the_sdk_timeout_and_becomes_a_failed_finding(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    fake.enqueue(hang(), hang())
    finding, _ = await engine_for(url, timeout_s=0.3, max_retries=1).investigate(spec(), [], context())
    assert finding.status == "failed" and "timed out" in (finding.error or "")
    assert len(fake.requests) == 2  # the SDK retried the timeout once

"""Server trouble for the OpenAI-compatible engine: the SDK's retries on 429/500, errors after
them, a wrong key, hung calls at the SDK timeout and at the orchestrator's deadline."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from agent_service.llm.metrics import LlmMetrics
from tests.agent.llm.conftest import FakeTool, context, spec
from tests.fakes.openai_api import FakeOpenAI, api_error, finding_turn, hang, tool_calls_turn
from tests.support.net import free_port


async def test_429_and_500_are_retried_by_the_sdk_and_the_finding_completes(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(api_error(429), api_error(500), finding_turn("ok", "Fine."))
    finding, usage = await openai_engine_for(url, max_retries=2).investigate(spec(), [], context())
    assert finding.status == "completed"
    assert [r.headers.get("x-stainless-retry-count") for r in fake.requests] == ["0", "1", "2"]
    assert fake.bodies[0] == fake.bodies[2]  # the retry re-sent the same conversation
    assert usage.llm_calls == 1  # only the answered call counts


async def test_errors_after_the_retries_give_a_failed_finding_with_the_reason(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    tool = FakeTool("overview", {"p95_ms": 3})
    fake.enqueue(tool_calls_turn(("overview", {})), api_error(500, "model crashed"), api_error(500), api_error(500))
    registry = CollectorRegistry()
    engine = openai_engine_for(url, max_retries=2, metrics=LlmMetrics(registry))
    finding, usage = await engine.investigate(spec(), [tool], context())
    assert finding.status == "failed" and finding.severity == "unknown"
    assert "the OpenAI-compatible API answered 500 after 2 retries" in (finding.error or "")
    assert [e.tool for e in finding.evidence] == ["overview"]  # what ran before the failure is kept
    assert usage.llm_calls == 1 and usage.tool_calls == 1
    labels = {"model": "qwen2.5:7b", "role": "specialist", "outcome": "error"}
    assert registry.get_sample_value("oncall_llm_calls_total", labels) == 1


async def test_a_wrong_key_is_not_retried(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    finding, _ = await openai_engine_for(url, api_key="wrong").investigate(spec(), [], context())
    assert finding.status == "failed" and "401" in (finding.error or "")
    assert len(fake.requests) == 1 and fake.requests[0].auth is None


async def test_no_key_configured_works_with_a_server_that_takes_none(openai_engine_for) -> None:
    fake = FakeOpenAI(api_key=None)
    with fake.serve() as url:
        fake.enqueue(finding_turn())
        finding, _ = await openai_engine_for(f"{url}/v1", api_key="").investigate(spec(), [], context())
    assert finding.status == "completed" and fake.requests[0].auth == "open"


async def test_an_unreachable_server_gives_a_failed_finding(openai_engine_for) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    finding, _ = await openai_engine_for(url, max_retries=0).investigate(spec(), [], context())
    assert finding.status == "failed" and "cannot reach the OpenAI-compatible API" in (finding.error or "")


async def test_a_hung_call_is_cut_by_the_orchestrator_deadline(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(hang())
    registry = CollectorRegistry()
    engine = openai_engine_for(url, timeout_s=30.0, metrics=LlmMetrics(registry))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(engine.investigate(spec(), [], context()), 0.5)
    assert len(fake.requests) == 1 and fake.requests[0].answered_at is None  # still hanging: the deadline ended it
    labels = {"model": "qwen2.5:7b", "role": "specialist", "outcome": "cancelled"}
    assert registry.get_sample_value("oncall_llm_calls_total", labels) == 1


async def test_a_hung_call_hits_the_sdk_timeout_and_becomes_a_failed_finding(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(hang(), hang())
    finding, _ = await openai_engine_for(url, timeout_s=0.3, max_retries=1).investigate(spec(), [], context())
    assert finding.status == "failed" and "timed out" in (finding.error or "")
    assert len(fake.requests) == 2  # the SDK retried the timeout once


async def test_a_server_wanting_max_completion_tokens_gets_it_from_then_on(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    refusal = api_error(400, "Unsupported parameter: 'max_tokens' is not supported with this model. "
                             "Use 'max_completion_tokens' instead.")
    fake.enqueue(refusal, finding_turn(), finding_turn())
    engine = openai_engine_for(url)
    first, usage = await engine.investigate(spec(), [], context())
    second, _ = await engine.investigate(spec("errors"), [], context())
    assert first.status == second.status == "completed" and usage.llm_calls == 1
    limits = [("max_tokens" in b, b.get("max_completion_tokens")) for b in fake.bodies]
    assert limits == [(True, None), (False, 2048), (False, 2048)]

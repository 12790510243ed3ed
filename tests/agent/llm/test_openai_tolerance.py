"""What local servers really send, through the real SDK and the fake server: recovered where the
intent is clear, a failed finding with a clear reason where it is not. The fake rejects a broken
history (a call id left unanswered), so every recovered call is also sent back well-formed."""

from __future__ import annotations

import json

from tests.agent.llm.conftest import FakeTool, context, spec, tool_messages
from tests.fakes.openai_api import (
    FakeOpenAI,
    completion,
    finding_arguments,
    finding_turn,
    text_turn,
    tool_call,
    tool_calls_turn,
    without_id,
)


async def test_arguments_with_trailing_text_or_a_code_fence_are_read(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    overview = FakeTool("overview", {"p95_ms": 120})
    fence = "```json\n" + json.dumps(finding_arguments("ok", "p95 is 120 ms.")) + "\n```"
    fake.enqueue(
        tool_calls_turn(tool_call("overview", raw='{"backend": "api"} I will look at the overview first.')),
        tool_calls_turn(tool_call("report_finding", raw=fence)),
    )
    finding, _ = await openai_engine_for(url).investigate(spec(), [overview], context())
    assert overview.calls == [{"backend": "api"}]
    assert finding.status == "completed" and finding.summary == "p95 is 120 ms."


async def test_arguments_sent_as_an_object_are_read(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(tool_calls_turn(tool_call("report_finding", raw=finding_arguments("warning", "p95 is 700 ms."))))
    finding, _ = await openai_engine_for(url).investigate(spec(), [], context())
    assert finding.status == "completed" and finding.severity == "warning"


async def test_a_tool_call_written_in_the_content_is_run_and_sent_back_as_a_real_call(
    fake_openai, openai_engine_for
) -> None:
    fake, url = fake_openai
    overview = FakeTool("overview", {"rps": 4.0})
    fake.enqueue(
        text_turn('I will check.\n{"name": "overview", "arguments": {"backend": "api"}}'),
        finding_turn("ok", "4 rps."),
    )
    finding, usage = await openai_engine_for(url).investigate(spec(), [overview], context())
    assert overview.calls == [{"backend": "api"}] and finding.status == "completed" and usage.tool_calls == 1
    history = fake.bodies[1]["messages"]
    assistant = history[-2]
    [call] = assistant["tool_calls"]
    assert call["function"] == {"name": "overview", "arguments": '{"backend": "api"}'} and call["id"]
    assert history[-1] == {"role": "tool", "tool_call_id": call["id"], "content": '{"rps":4.0}'}


async def test_hermes_tool_call_tags_and_several_calls_in_the_content(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    a, b = FakeTool("a", {"n": 1}), FakeTool("b", {"n": 2})
    content = '<tool_call>{"name": "a", "arguments": {}}</tool_call>\n<tool_call>{"name": "b", "arguments": {}}</tool_call>'
    fake.enqueue(text_turn(content), finding_turn())
    finding, _ = await openai_engine_for(url).investigate(spec(), [a, b], context())
    assert (len(a.calls), len(b.calls)) == (1, 1)
    assert [json.loads(m["content"]) for m in tool_messages(fake.bodies[1])] == [{"n": 1}, {"n": 2}]
    assert finding.status == "completed"


async def test_missing_and_repeated_call_ids_get_fresh_ones(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    a, b = FakeTool("a", {"n": 1}), FakeTool("b", {"n": 2})
    fake.enqueue(
        tool_calls_turn(without_id(tool_call("a", {})), tool_call("b", {}, id="call_0"), tool_call("a", {"x": 1}, id="call_0")),
        finding_turn(),
    )
    finding, _ = await openai_engine_for(url).investigate(spec(), [a, b], context())
    ids = [c["id"] for c in fake.bodies[1]["messages"][-4]["tool_calls"]]
    assert len(set(ids)) == 3 and ids[1] == "call_0"
    assert [m["tool_call_id"] for m in tool_messages(fake.bodies[1])] == ids
    assert finding.status == "completed" and len(a.calls) == 2


async def test_unknown_names_get_the_available_tools_and_near_names_are_resolved(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    overview = FakeTool("overview", {"rps": 1.0})
    unknown = tool_call("get_weather", {})
    fake.enqueue(tool_calls_turn(unknown, tool_call("functions.Overview", {})), finding_turn())
    finding, _ = await openai_engine_for(url).investigate(spec(), [overview], context())
    refused, ran = tool_messages(fake.bodies[1])
    assert refused["tool_call_id"] == unknown["id"]
    assert "unknown tool 'get_weather'" in refused["content"] and "overview" in refused["content"]
    assert json.loads(ran["content"]) == {"rps": 1.0} and len(overview.calls) == 1
    assert [e.tool for e in finding.evidence] == ["overview"]


async def test_unreadable_arguments_are_refused_with_the_reason(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    overview = FakeTool("overview", {})
    call = tool_call("overview", raw="backend=api please")
    fake.enqueue(tool_calls_turn(call), finding_turn())
    await openai_engine_for(url).investigate(spec(), [overview], context())
    [result] = tool_messages(fake.bodies[1])
    assert result["content"] == "error: tool input must be a JSON object" and overview.calls == []


async def test_an_unreadable_finding_gets_the_repair_turn_then_fails_with_the_reason(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(
        tool_calls_turn(tool_call("report_finding", raw="severity: ok")),
        tool_calls_turn(tool_call("report_finding", raw="{not json")),
    )
    finding, _ = await openai_engine_for(url).investigate(spec(), [], context())
    assert finding.status == "failed" and "valid dictionary" in (finding.error or "")
    assert "after one repair turn" in (finding.error or "")


async def test_a_server_ignoring_tool_choice_with_the_finding_as_text_json_is_recovered(
    fake_openai, openai_engine_for
) -> None:
    fake, url = fake_openai
    fake.enqueue(
        tool_calls_turn(("overview", {})),
        text_turn("Here is my finding:\n" + json.dumps(finding_arguments("critical", "p99 is 2400 ms."))),
    )
    finding, _ = await openai_engine_for(url, max_steps=2).investigate(spec(), [FakeTool("overview", {})], context())
    assert fake.bodies[1]["tool_choice"] == {"type": "function", "function": {"name": "report_finding"}}
    assert finding.status == "completed" and finding.severity == "critical"


async def test_a_server_ignoring_tool_choice_with_more_tool_calls_gives_a_failed_finding(
    fake_openai, openai_engine_for
) -> None:
    fake, url = fake_openai
    tool = FakeTool("overview", {})
    fake.respond_with(lambda body: tool_calls_turn(("overview", {"n": len(body["messages"])})))
    finding, _ = await openai_engine_for(url, max_steps=3).investigate(spec(), [tool], context())
    assert finding.status == "failed" and "no report_finding after 3 turns" in (finding.error or "")
    assert "tool_calls" in (finding.error or "")  # the server's finish_reason is in the reason
    assert len(fake.requests) == 3 and len(tool.calls) == 2


async def test_prose_on_the_forced_turn_gives_a_failed_finding(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(text_turn("I think latency is fine."), text_turn("Really, it is fine."))
    finding, _ = await openai_engine_for(url).investigate(spec(), [], context())
    assert finding.status == "failed" and "no report_finding after 2 turns" in (finding.error or "")


async def test_a_server_without_usage_counts_the_calls_and_no_tokens(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(completion(None, [tool_call("report_finding", finding_arguments())], usage=False))
    finding, usage = await openai_engine_for(url).investigate(spec(), [], context())
    assert finding.status == "completed"
    assert usage.llm_calls == 1 and usage.input_tokens == usage.output_tokens == 0 and usage.cost_usd == 0


async def test_a_server_refusing_a_named_tool_choice_is_forced_with_required(openai_engine_for) -> None:
    fake = FakeOpenAI(named_tool_choice=False)
    with fake.serve() as url:
        fake.enqueue(tool_calls_turn(("overview", {})), finding_turn("ok", "Fine."))
        engine = openai_engine_for(f"{url}/v1", api_key="", max_steps=2)
        finding, usage = await engine.investigate(spec(), [FakeTool("overview", {})], context())
    assert finding.status == "completed" and usage.llm_calls == 2
    choices = [r.body["tool_choice"] for r in fake.requests]
    assert choices == ["auto", {"type": "function", "function": {"name": "report_finding"}}, "required"]
    assert [t["function"]["name"] for t in fake.requests[-1].body["tools"]] == ["report_finding"]

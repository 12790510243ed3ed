"""The specialist loop through the real anthropic SDK against the fake Messages API."""

from __future__ import annotations

import json

from tests.agent.llm.conftest import FakeTool, context, spec, waiting_pair, tool_results
from tests.fakes.anthropic_api import finding_turn, text_turn, tool_call, tool_use_turn


async def test_tool_use_round_trip_attaches_evidence_from_real_calls(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    overview = FakeTool("overview", {"p95_ms": 812.0, "requests": 1200})
    call = tool_call("overview", {"backend": "api"})
    fake.enqueue(
        tool_use_turn(call),
        finding_turn("warning", "p95 is 812 ms.", signals={"p95_ms": 812.0, "made_up": 3.0}),
    )
    finding, usage = await engine_for(url).investigate(spec(), [overview], context())

    assert finding.status == "completed" and finding.severity == "warning"
    assert finding.summary == "p95 is 812 ms." and finding.signals["p95_ms"] == 812.0
    assert overview.calls == [{"backend": "api"}]
    assert [(e.tool, e.arguments, e.result) for e in finding.evidence] == [
        ("overview", {"backend": "api"}, {"p95_ms": 812.0, "requests": 1200})
    ]
    second = fake.bodies[1]
    [result] = tool_results(second)
    assert result["tool_use_id"] == call["id"] and not result.get("is_error")
    assert json.loads(result["content"]) == {"p95_ms": 812.0, "requests": 1200}
    assert usage.llm_calls == 2 and usage.tool_calls == 1
    assert usage.by_model == {"claude-haiku-4-5": 2}
    assert usage.input_tokens > 0 and usage.output_tokens > 0 and usage.cost_usd > 0
    # the first call writes the cache, the second (same system + tools) reads it
    assert usage.cache_creation_input_tokens > 0 and usage.cache_read_input_tokens > 0
    assert [r.auth for r in fake.requests] == ["bearer", "bearer"]


async def test_requests_carry_cache_control_and_the_context_only_in_a_tool_result(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    fake.enqueue(finding_turn())
    await engine_for(url).investigate(spec(), [FakeTool("overview", {})], context(backend="web-backend"))
    body = fake.bodies[0]
    assert body["model"] == "claude-haiku-4-5"
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert all("cache_control" not in t for t in body["tools"][:-1])
    assert [t["name"] for t in body["tools"]] == ["analysis_context", "overview", "report_finding"]
    assert body["tool_choice"] == {"type": "auto"}
    assert "500" in body["system"][0]["text"]  # thresholds are in the prompt
    assert "web-backend" not in json.dumps(body["system"])
    [seeded] = tool_results(body)
    assert json.loads(seeded["content"])["scope"]["backend"] == "web-backend"


async def test_several_tool_uses_in_one_turn_run_concurrently(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    a, b = waiting_pair()
    first, second = tool_call("a", {}), tool_call("b", {})
    fake.enqueue(tool_use_turn(first, second), finding_turn())
    finding, usage = await engine_for(url).investigate(spec(), [a, b], context())

    assert finding.status == "completed"
    results = tool_results(fake.bodies[1])
    assert [r["tool_use_id"] for r in results] == [first["id"], second["id"]]
    assert not any(r.get("is_error") for r in results)
    assert {e.tool for e in finding.evidence} == {"a", "b"} and usage.tool_calls == 2


async def test_unknown_tool_failing_tool_and_raising_tool_become_errors_and_the_loop_goes_on(
    fake_llm, engine_for
) -> None:
    fake, url = fake_llm
    failing = FakeTool("failing", error="ingestion answered 503")
    raising = FakeTool("raising", raises=RuntimeError("boom"))
    calls = [tool_call("no_such_tool", {}), tool_call("failing", {}), tool_call("raising", {})]
    fake.enqueue(tool_use_turn(*calls), finding_turn("unknown", "Could not read the signals."))
    finding, _ = await engine_for(url).investigate(spec(), [failing, raising], context())

    assert finding.status == "completed" and finding.severity == "unknown"
    results = {r["tool_use_id"]: r for r in tool_results(fake.bodies[1])}
    assert all(results[c["id"]]["is_error"] is True for c in calls)
    assert "unknown tool 'no_such_tool'" in results[calls[0]["id"]]["content"]
    assert "ingestion answered 503" in results[calls[1]["id"]]["content"]
    assert "RuntimeError: boom" in results[calls[2]["id"]]["content"]
    assert [e.tool for e in finding.evidence] == ["failing", "raising"]  # the unknown one never ran


async def test_identical_repeated_call_is_refused_not_run_twice(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    tool = FakeTool("overview", {"rps": 3.0})
    again = tool_call("overview", {"backend": "api"})
    context_again = tool_call("analysis_context", {})
    fake.enqueue(
        tool_use_turn(("overview", {"backend": "api"})),
        tool_use_turn(again, context_again),
        finding_turn(),
    )
    finding, _ = await engine_for(url).investigate(spec(), [tool], context())
    assert len(tool.calls) == 1
    results = {r["tool_use_id"]: r for r in tool_results(fake.bodies[2])}
    for call in (again, context_again):
        assert results[call["id"]]["is_error"] is True and "identical call" in results[call["id"]]["content"]
    assert len(finding.evidence) == 1


async def test_oversized_result_is_cut_with_a_note_to_narrow_the_query(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    big = FakeTool("paths", {"paths": [f"/p/{i}" for i in range(5000)]})
    fake.enqueue(tool_use_turn(("paths", {})), finding_turn())
    finding, _ = await engine_for(url, tool_result_max_chars=2000).investigate(spec(), [big], context())
    [result] = tool_results(fake.bodies[1])
    assert len(result["content"]) <= 2000
    assert "truncated" in result["content"] and "narrow the query" in result["content"].lower()
    cut_down = json.loads(result["content"])  # whole entries dropped: still JSON, with the note
    assert 0 < len(cut_down["paths"]) < 5000 and cut_down["paths"] == [f"/p/{i}" for i in range(len(cut_down["paths"]))]
    assert finding.evidence[0].result == cut_down  # evidence is what the model saw


async def test_invalid_finding_gets_one_forced_repair_turn(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    bad = tool_call("report_finding", {"severity": "terrible", "summary": ""})
    fake.enqueue(tool_use_turn(bad), finding_turn("critical", "p99 is 2400 ms.", signals={"p99_ms": 2400}))
    finding, usage = await engine_for(url).investigate(spec(), [], context())

    assert finding.status == "completed" and finding.severity == "critical"
    repair = fake.bodies[1]
    [result] = tool_results(repair)
    assert result["tool_use_id"] == bad["id"] and result["is_error"] is True
    assert "severity" in result["content"] and "summary" in result["content"]
    assert repair["tool_choice"] == {"type": "tool", "name": "report_finding"}
    assert [t["name"] for t in repair["tools"]] == ["report_finding"]
    assert usage.llm_calls == 2


async def test_finding_still_invalid_after_repair_is_a_failed_finding(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    fake.enqueue(finding_turn("bad"), finding_turn("ok", "", extra_field=1))
    finding, _ = await engine_for(url).investigate(spec(), [], context())
    assert finding.status == "failed" and finding.severity == "unknown"
    assert "after one repair turn" in (finding.error or "")
    assert len(fake.requests) == 2


async def test_step_cap_forces_the_answer_on_the_last_turn(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    tool = FakeTool("rps", {"rps": 10.0})
    fake.enqueue(
        tool_use_turn(("rps", {"i": 1})),
        tool_use_turn(("rps", {"i": 2})),
        finding_turn("ok", "Traffic is steady at 10 rps."),
    )
    finding, _ = await engine_for(url, max_steps=3).investigate(spec(), [tool], context())
    assert finding.status == "completed" and len(tool.calls) == 2
    first, _, last = fake.bodies
    assert first["tool_choice"] == {"type": "auto"} and len(first["tools"]) == 3
    assert last["tool_choice"] == {"type": "tool", "name": "report_finding"}
    assert [t["name"] for t in last["tools"]] == ["report_finding"]


async def test_model_ignoring_the_forced_last_turn_gives_a_failed_finding(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    fake.respond_with(lambda body: tool_use_turn(("rps", {"n": len(body["messages"])})))
    finding, _ = await engine_for(url, max_steps=3).investigate(spec(), [FakeTool("rps", {})], context())
    assert finding.status == "failed" and "no report_finding after 3 turns" in (finding.error or "")
    assert len(fake.requests) == 3


async def test_text_answer_is_followed_by_a_forced_request_for_the_finding(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    fake.enqueue(text_turn("Latency looks fine to me."), finding_turn("ok", "Latency is fine."))
    finding, _ = await engine_for(url).investigate(spec(), [], context())
    assert finding.status == "completed"
    assert fake.bodies[1]["tool_choice"] == {"type": "tool", "name": "report_finding"}
    assert fake.bodies[1]["messages"][-1]["content"][0]["type"] == "text"


async def test_every_tool_given_is_offered_except_reserved_names(fake_llm, engine_for) -> None:
    fake, url = fake_llm
    fake.enqueue(finding_turn())
    tools = [FakeTool("overview", {}), FakeTool("similar_incidents", {}), FakeTool("report_finding", {})]
    await engine_for(url).investigate(spec(tools=("overview",)), tools, context())
    names = [t["name"] for t in fake.bodies[0]["tools"]]
    assert names == ["analysis_context", "overview", "similar_incidents", "report_finding"]


async def test_agent_script_makes_the_scripted_tool_turns_then_reports(fake_llm, engine_for) -> None:
    from tests.fakes.anthropic_api import agent_script

    fake, url = fake_llm
    fake.respond_with(agent_script(3))
    tools = [FakeTool("a", {"n": 1}), FakeTool("b", {"n": 2})]
    engine = engine_for(url)
    finding, usage = await engine.investigate(spec(), tools, context())
    assert finding.status == "completed" and finding.signals == {"turns": 3.0}
    assert usage.llm_calls == 4 and [len(t.calls) for t in tools] == [1, 1]  # the third turn repeats a → refused
    synthesis, _ = await engine.synthesize([finding], context(), [])
    assert synthesis.title == "Scripted incident"
    assert all(r.answered_at is not None and r.answered_at >= r.received_at for r in fake.requests)

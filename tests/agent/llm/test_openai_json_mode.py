"""supports_tools=false: no tools are offered; the engine runs the specialist's own tools once with
the analysis defaults, hands the results over as tool messages and asks for the finding as JSON
(`response_format` with its schema, weaker formats where the server refuses it)."""

from __future__ import annotations

import json

from agent_service.models import Finding
from tests.agent.llm.conftest import FakeTool, context, spec
from tests.fakes.openai_api import FakeOpenAI, agent_script, api_error, finding_arguments, text_turn


async def test_the_finding_is_asked_for_as_json_after_the_engine_ran_the_tools(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    overview, extra = FakeTool("overview", {"p95_ms": 640.0}), FakeTool("search_past_incidents", {})
    fake.enqueue(text_turn("```json\n" + json.dumps(finding_arguments("warning", "p95 is 640 ms.")) + "\n```"))
    engine = openai_engine_for(url, supports_tools=False)
    finding, usage = await engine.investigate(spec(tools=("overview",)), [overview, extra], context())

    assert finding.status == "completed" and finding.severity == "warning"
    assert overview.calls == [{}] and extra.calls == []  # only the specialist's own tools, with the defaults
    assert [(e.tool, e.result) for e in finding.evidence] == [("overview", {"p95_ms": 640.0})]
    [body] = fake.bodies
    assert "tools" not in body and "tool_choice" not in body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "report_finding"
    assert "severity" in body["response_format"]["json_schema"]["schema"]["properties"]
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "tool", "user"]
    assert json.loads(body["messages"][5]["content"]) == {"p95_ms": 640.0}  # tool data only in a tool message
    assert "report_finding" in body["messages"][-1]["content"] and usage.tool_calls == 1


async def test_a_server_refusing_json_schema_gets_json_object_and_the_engine_remembers(openai_engine_for) -> None:
    fake = FakeOpenAI(response_formats={"json_object"})
    with fake.serve() as url:
        fake.respond_with(agent_script())
        engine = openai_engine_for(f"{url}/v1", api_key="", supports_tools=False)
        first, _ = await engine.investigate(spec(), [], context())
        second, usage = await engine.investigate(spec("errors"), [], context())
        synthesis, _ = await engine.synthesize([first, second], context(), [])
    assert first.status == second.status == "completed" and synthesis.title == "Scripted incident"
    formats = [(r.body.get("response_format") or {}).get("type") for r in fake.requests]
    assert formats == ["json_schema", "json_object", "json_object", "json_object"]
    assert fake.requests[0].answered_at is not None and usage.llm_calls == 1


async def test_a_server_refusing_every_format_is_asked_without_one(openai_engine_for) -> None:
    fake = FakeOpenAI(response_formats=set())
    with fake.serve() as url:
        fake.respond_with(agent_script())
        finding, _ = await openai_engine_for(f"{url}/v1", api_key="", supports_tools=False).investigate(
            spec(), [], context()
        )
    assert finding.status == "completed"
    assert [(r.body.get("response_format") or {}).get("type") for r in fake.requests] == ["json_schema", "json_object", None]


async def test_invalid_json_gets_one_repair_turn_then_the_finding_fails(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(text_turn("Latency is fine."), text_turn('{"severity": "fine"}'))
    finding, _ = await openai_engine_for(url, supports_tools=False).investigate(spec(), [], context())
    assert finding.status == "failed" and "after one repair turn" in (finding.error or "")
    assert len(fake.requests) == 2


async def test_an_invalid_json_finding_is_repaired(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(text_turn('{"severity": "fine", "summary": "ok"}'), text_turn(json.dumps(finding_arguments())))
    finding, _ = await openai_engine_for(url, supports_tools=False).investigate(spec(), [], context())
    assert finding.status == "completed"
    repair = fake.bodies[1]["messages"]
    assert repair[-2]["role"] == "tool" and "severity" in repair[-2]["content"]
    assert repair[-1]["role"] == "user" and "report_finding" in repair[-1]["content"]


async def test_synthesis_in_json_mode(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(text_turn(json.dumps({"title": "Slow api", "diagnosis": "p95 is 640 ms.", "recommendations": []})))
    findings = [Finding(specialist="latency", severity="warning", summary="p95 is 640 ms.")]
    synthesis, _ = await openai_engine_for(url, supports_tools=False).synthesize(findings, context(), [])
    assert synthesis.title == "Slow api"
    assert fake.bodies[0]["response_format"]["json_schema"]["name"] == "report_synthesis"


async def test_a_400_about_something_else_fails_the_finding_and_keeps_the_format(fake_openai, openai_engine_for) -> None:
    fake, url = fake_openai
    fake.enqueue(api_error(400, "prompt is longer than the context window"), text_turn(json.dumps(finding_arguments())))
    engine = openai_engine_for(url, supports_tools=False)
    failed, _ = await engine.investigate(spec(), [], context())
    second, _ = await engine.investigate(spec(), [], context())
    assert failed.status == "failed" and "context window" in (failed.error or "") and second.status == "completed"
    assert [r.body["response_format"]["type"] for r in fake.requests] == ["json_schema", "json_schema"]

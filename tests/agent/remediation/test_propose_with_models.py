"""The model engines propose through `propose_remediation` (its schema: the typed proposal), the
real SDKs against the checked-in fake Messages and chat-completions APIs: what a model proposes is
validated like the rules engine's — a server the analysed data never named is dropped, ids and
executable_here are the copilot's, not the model's."""

from __future__ import annotations

from typing import Any

from agent_service.app import create_app
from agent_service.remediation.tool import NAME
from tests.agent.diagnosis.builders import END
from tests.agent.fake_ingestion import FakeIngestion
from tests.agent.helpers import settings
from tests.agent.llm.conftest import API_KEY
from tests.agent.remediation.support import one_bad_server
from tests.fakes import openai_api as openai_fake
from tests.fakes.anthropic_api import Reply, finding_turn, synthesis_turn, tool_use_turn

import httpx

GOOD = {"type": "drain_server", "backend": "be_pay", "server": "r3", "id": "model-id", "executable_here": True,
        "evidence": ["r3 answers 500 of 500 5xx (SC--)"], "risk": {"level": "low", "why": "two healthy peers"},
        "undo": {"how": "ready again", "command": "set server be_pay/r3 state ready"}}
INVENTED = {"type": "drain_server", "backend": "be_pay", "server": "r7"}
MALFORMED = {"type": "set_server_weight", "backend": "be_pay", "server": "r1", "weight": "heavy"}


def _results(body: dict[str, Any]) -> int:
    return sum(1 for m in body["messages"] if m["role"] == "user" and isinstance(m["content"], list)
               and any(b.get("type") == "tool_result" for b in m["content"]))


def model(body: dict[str, Any]) -> Reply:
    names = [t["name"] for t in body.get("tools", [])]
    if "report_synthesis" in names:
        return synthesis_turn("r3 refuses connections", "be_pay/r3 refuses connections.", ["Drain r3."])
    errors = "the errors specialist" in body["system"][0]["text"]
    done = _results(body) - 1  # the first tool result is the seeded analysis context
    forced = (body.get("tool_choice") or {}).get("type") == "tool"
    if not forced and done == 0:
        return tool_use_turn(("get_breakdown", {}))
    if not forced and errors and done == 1:
        return tool_use_turn((NAME, {"proposal": GOOD}), (NAME, {"proposal": INVENTED}), (NAME, {"proposal": MALFORMED}))
    return finding_turn("critical" if errors else "ok", "be_pay/r3 refuses connections." if errors else "Fine.")


async def test_the_models_proposals_are_validated_like_the_rules(fake_llm, fake_redis) -> None:
    fake, url = fake_llm
    fake.respond_with(model)
    cfg = settings(llm_engine="anthropic", anthropic_api_key=API_KEY, anthropic_base_url=url, llm_max_retries=0,
                   haproxy_runtime_sockets="unix:/run/haproxy/admin.sock",
                   tool_result_max_chars=200_000)  # the whole breakdown reaches the model: r3 is in it
    app = create_app(cfg, redis=fake_redis, http=FakeIngestion().set("breakdown", one_bad_server("be_pay", "r3", ("r1", "r2"))).client())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent.test") as http:
            answer = await http.post("/analyze", json={"window": "10m", "end": END.isoformat()})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert [(p["type"], p["server"], p["id"], p["executable_here"]) for p in report["proposals"]] == [
        ("drain_server", "r3", "p1", True)]
    assert report["proposals"][0]["undo"]["command"] == "set server be_pay/r3 state ready"
    offered = next(t for b in fake.bodies for t in b.get("tools", []) if t["name"] == NAME)
    schema = offered["input_schema"]
    assert schema["type"] == "object" and schema["required"] == ["proposal"]
    kinds = {ref["$ref"].rsplit("/", 1)[1] for ref in schema["properties"]["proposal"]["oneOf"]}
    assert kinds == {"DrainServer", "SetServerWeight", "SetMaxconn", "Rollback", "ScaleOut", "RateLimit", "Escalate"}
    answered = [b for body in fake.bodies for m in body["messages"] if m["role"] == "user" and isinstance(m["content"], list)
                for b in m["content"] if b.get("type") == "tool_result"]
    assert any(b.get("is_error") and "weight" in str(b.get("content")) for b in answered)  # the malformed one, told why



def openai_model(body: dict[str, Any]) -> openai_fake.Reply:
    names = [(t.get("function") or {}).get("name") for t in body.get("tools") or []]
    if "report_synthesis" in names:
        return openai_fake.synthesis_turn("r3 refuses connections", "be_pay/r3 refuses connections.", ["Drain r3."])
    errors = "the errors specialist" in body["messages"][0]["content"]
    done = sum(1 for m in body["messages"] if m.get("role") == "tool") - 1
    forced = body.get("tool_choice") not in (None, "auto")
    if not forced and done == 0:
        return openai_fake.tool_calls_turn(("get_breakdown", {}))
    if not forced and errors and done == 1:
        return openai_fake.tool_calls_turn((NAME, {"proposal": GOOD}), (NAME, {"proposal": INVENTED}))
    return openai_fake.finding_turn("critical" if errors else "ok", "Seen." if errors else "Fine.")


async def test_the_openai_compatible_engine_shares_the_tool_and_its_validation(fake_redis) -> None:
    fake = openai_fake.FakeOpenAI(api_key=API_KEY)
    fake.respond_with(openai_model)
    with fake.serve() as url:
        cfg = settings(llm_engine="openai", openai_base_url=f"{url}/v1", openai_api_key=API_KEY,
                       openai_specialist_model="llama3.1:8b", llm_max_retries=0, tool_result_max_chars=200_000)
        app = create_app(cfg, redis=fake_redis,
                         http=FakeIngestion().set("breakdown", one_bad_server("be_pay", "r3", ("r1", "r2"))).client())
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent.test") as http:
                answer = await http.post("/analyze", json={"window": "10m", "end": END.isoformat()})
    assert answer.status_code == 200, answer.text
    assert [(p["type"], p["server"], p["executable_here"]) for p in answer.json()["proposals"]] == [
        ("drain_server", "r3", False)]  # no HAPROXY_RUNTIME_SOCKETS here

"""A fake OpenAI-compatible chat-completions API (POST /v1/chat/completions) for the real openai
SDK, served by uvicorn on loopback and reached through the SDK's base_url (`{url}/v1`).

Scripted per test like the fake Anthropic API (tests/fakes/scripted.py): a queue of replies,
then a function of the request body; every request is recorded (each SDK retry too). A reply
is a raw message, so a test can send what local servers really send: arguments with trailing
text, a tool call written in the content, no call id, an unknown name, no `usage`. The fake
checks the conversation the way the real API does (every assistant tool call answered by one
`tool` message with its id, a forced function among the tools, `tool_choice` only with tools)
and answers 400 otherwise; `response_formats` says which `response_format` types it accepts,
`named_tool_choice=False` makes it refuse a named `tool_choice` (only its string forms).
The key is checked only when the fake has one (local servers take none).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.scripted import Handler, Reply, ScriptedFake, hang

__all__ = ["FakeOpenAI", "Reply", "hang"]
_ids = itertools.count(1)
ROLES = {"system", "user", "assistant", "tool", "developer"}


def completion(
    content: str | None = None, tool_calls: list[dict[str, Any]] | None = None, *, finish_reason: str | None = None,
    usage: bool = True,
) -> Reply:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    reason = finish_reason or ("tool_calls" if tool_calls else "stop")
    return Reply(body={"message": message, "finish_reason": reason, "usage": usage})


def tool_call(
    name: str, arguments: dict[str, Any] | None = None, *, id: str | None = None, raw: Any = None
) -> dict[str, Any]:
    """`raw`: the `arguments` exactly as sent (a string with trailing text, an object, ...)."""
    return {
        "id": id or f"call_fake_{next(_ids):04d}",
        "type": "function",
        "function": {"name": name, "arguments": raw if raw is not None else json.dumps(arguments or {})},
    }


def without_id(call: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in call.items() if k != "id"}


def tool_calls_turn(*calls: dict[str, Any] | tuple[str, dict[str, Any]], text: str | None = None) -> Reply:
    return completion(text, [c if isinstance(c, dict) else tool_call(*c) for c in calls])


def finding_arguments(
    severity: str = "ok", summary: str = "All good.", details: str = "", signals: dict[str, float] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {"severity": severity, "summary": summary, "details": details, "signals": signals or {}, **extra}


def finding_turn(*args: Any, **kwargs: Any) -> Reply:
    return tool_calls_turn(tool_call("report_finding", finding_arguments(*args, **kwargs)))


def synthesis_turn(
    title: str = "All quiet", diagnosis: str = "Nothing is wrong.", recommendations: list[str] | None = None, **extra: Any
) -> Reply:
    arguments = {"title": title, "diagnosis": diagnosis, "recommendations": recommendations or [], **extra}
    return tool_calls_turn(tool_call("report_synthesis", arguments))


def text_turn(text: str, **kwargs: Any) -> Reply:
    return completion(text, **kwargs)


def api_error(status: int, text: str = "fake error", *, retry_after_ms: int = 10) -> Reply:
    kind = {429: "rate_limit_exceeded", 401: "invalid_api_key", 400: "invalid_request_error"}.get(status, "server_error")
    return Reply(
        status=status,
        body={"error": {"message": text, "type": kind, "param": None, "code": kind}},
        headers={"retry-after-ms": str(retry_after_ms)},
    )


def _invalid(text: str) -> Reply:
    return api_error(400, text)


def check_request(body: dict[str, Any], formats: set[str], *, named_tool_choice: bool = True) -> str | None:
    """What the real API would reject in this body (a subset of its checks), or None."""
    for key in ("model", "messages"):
        if key not in body:
            return f"{key}: Field required"
    tools = [(t.get("function") or {}).get("name") for t in body.get("tools") or []]
    if len(tools) != len(set(tools)):
        return "tools: function names must be unique"
    choice = body.get("tool_choice")
    if choice is not None and not tools:
        return "tool_choice is only allowed when tools are specified"
    if isinstance(choice, dict) and not named_tool_choice:
        return f"Invalid tool_choice: {json.dumps(choice)}"
    if isinstance(choice, dict) and (choice.get("function") or {}).get("name") not in tools:
        return f"tool_choice: function {choice!r} not found in tools"
    fmt = body.get("response_format")
    if fmt is not None and fmt.get("type") not in formats:
        return f"response_format type {fmt.get('type')!r} is not supported by this server"
    pending: set[str] = set()
    for index, msg in enumerate(body["messages"]):
        role = msg.get("role")
        if role not in ROLES:
            return f"messages.{index}.role: unknown role {role!r}"
        if role == "tool":
            if msg.get("tool_call_id") not in pending:
                return f"messages.{index}: tool message for an unknown tool_call_id {msg.get('tool_call_id')!r}"
            pending.discard(msg["tool_call_id"])
            continue
        if pending:
            return f"messages.{index}: tool_call ids without a tool message: {sorted(pending)}"
        if role == "assistant":
            for call in msg.get("tool_calls") or []:
                function = call.get("function") or {}
                if not call.get("id") or call.get("type") != "function" or not isinstance(function.get("arguments"), str):
                    return f"messages.{index}.tool_calls: malformed call {call!r}"
                pending.add(call["id"])
        elif not isinstance(msg.get("content"), str) or not msg["content"]:
            return f"messages.{index}.content: a non-empty string is required"
    return None


def _tokens(value: Any) -> int:
    return len(json.dumps(value, sort_keys=True)) // 4 + 1


class FakeOpenAI(ScriptedFake):
    def __init__(
        self, *, api_key: str | None = None, delay_ms: float = 0.0,
        response_formats: set[str] | None = None, send_usage: bool = True, named_tool_choice: bool = True,
    ) -> None:
        super().__init__(delay_ms=delay_ms)
        self.api_key = api_key
        self.response_formats = {"json_schema", "json_object"} if response_formats is None else response_formats
        self.send_usage = send_usage
        self.named_tool_choice = named_tool_choice

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> JSONResponse:
            header = request.headers.get("authorization")
            auth = "bearer" if self.api_key is not None and header == f"Bearer {self.api_key}" else None
            if self.api_key is None:
                auth = "open"
            return await self.recorded(request, auth, self._answer)

        return app

    async def _answer(self, body: dict[str, Any], auth: str | None) -> JSONResponse:
        if auth is None:
            reply = api_error(401, "Incorrect API key provided")
        elif problem := check_request(body, self.response_formats, named_tool_choice=self.named_tool_choice):
            reply = _invalid(problem)
        else:
            reply = self.next_reply(body, exhausted=_invalid("fake: no scripted reply left for this request"))
        hung = JSONResponse({"error": {"message": "hung", "type": "server_error"}}, 500)
        if (held := await self.hold(reply, hung=hung)) is not None:
            return held
        if reply.status != 200:
            return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)
        answer = reply.body or {}
        message = answer.get("message", {"role": "assistant", "content": ""})
        payload: dict[str, Any] = {
            "id": f"chatcmpl-fake{next(_ids):06d}",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": answer.get("finish_reason", "stop")}],
        }
        if self.send_usage and answer.get("usage", True):
            payload["usage"] = {
                "prompt_tokens": _tokens(body["messages"]) + _tokens(body.get("tools", [])),
                "completion_tokens": _tokens(message),
                "total_tokens": 0,
            }
            payload["usage"]["total_tokens"] = payload["usage"]["prompt_tokens"] + payload["usage"]["completion_tokens"]
        return JSONResponse(payload, headers=reply.headers)


def agent_script(tool_turns: int = 2) -> Handler:
    """A model that makes `tool_turns` tool turns (one call each, going round the offered tools
    with no arguments), then reports a finding; answers synthesis requests with a synthesis and
    JSON-mode requests (no tools) with the JSON asked for."""

    def handle(body: dict[str, Any]) -> Reply:
        names = [(t.get("function") or {}).get("name") for t in body.get("tools") or []]
        synthesis = {"title": "Scripted incident", "diagnosis": "Scripted diagnosis.",
                     "recommendations": ["Scripted step."], "overall_severity": "ok"}
        done = sum(1 for m in body["messages"] if m.get("role") == "tool") - 1  # the first is the seeded context
        if not names:  # JSON mode: the answer is the JSON asked for in the last user message
            asked = next(m["content"] for m in reversed(body["messages"]) if m.get("role") == "user")
            if "`report_synthesis`" in asked:
                return text_turn(json.dumps(synthesis))
            return text_turn(json.dumps(finding_arguments("ok", "Scripted finding.", signals={"turns": float(done)})))
        if "report_synthesis" in names:
            return tool_calls_turn(tool_call("report_synthesis", synthesis))
        callable_tools = [n for n in names if n not in ("report_finding", "analysis_context")]
        forced = body.get("tool_choice") not in (None, "auto")
        if forced or done >= tool_turns or not callable_tools:
            return finding_turn("ok", "Scripted finding.", signals={"turns": float(done)})
        return tool_calls_turn((callable_tools[done % len(callable_tools)], {}))

    return handle

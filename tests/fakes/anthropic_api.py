"""A fake Anthropic Messages API (POST /v1/messages) for the real anthropic SDK, served by uvicorn
on loopback (tests.support.servers.serve_app) and reached through the SDK's base_url.

Scripted per test: a queue of replies (`enqueue`), then a function of the request body
(`respond_with`). It records every request it receives (each SDK retry too), accepts the key as
`x-api-key` or `Authorization: Bearer`, checks the conversation the way the real API does
(roles alternate, every tool_use answered by a tool_result with its id, forced tools exist) and
answers 400 when it is malformed, so a loop that sends a broken history fails its test.
It can answer errors (429/529/500 with retry-after-ms so the SDK's retries stay quick), hang
(until the client gives up or the fake closes) and delay every answer (for benchmarks).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.scripted import Handler, Recorded, Reply, ScriptedFake, hang

__all__ = ["FakeAnthropic", "Handler", "Recorded", "Reply", "hang"]
_ids = itertools.count(1)


def message(content: list[dict[str, Any]], stop_reason: str = "end_turn") -> Reply:
    return Reply(body={"content": content, "stop_reason": stop_reason})


def tool_call(name: str, arguments: dict[str, Any] | None = None, *, id: str | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": id or f"toolu_fake_{next(_ids):04d}", "name": name, "input": arguments or {}}


def tool_use_turn(*calls: dict[str, Any] | tuple[str, dict[str, Any]], text: str | None = None) -> Reply:
    blocks = [c if isinstance(c, dict) else tool_call(*c) for c in calls]
    return message(([{"type": "text", "text": text}] if text else []) + blocks, "tool_use")


def finding_turn(
    severity: str = "ok", summary: str = "All good.", details: str = "", signals: dict[str, float] | None = None, **extra: Any
) -> Reply:
    arguments = {"severity": severity, "summary": summary, "details": details, "signals": signals or {}, **extra}
    return tool_use_turn(tool_call("report_finding", arguments))


def synthesis_turn(
    title: str = "All quiet", diagnosis: str = "Nothing is wrong.", recommendations: list[str] | None = None, **extra: Any
) -> Reply:
    arguments = {"title": title, "diagnosis": diagnosis, "recommendations": recommendations or [], **extra}
    return tool_use_turn(tool_call("report_synthesis", arguments))


def text_turn(text: str) -> Reply:
    return message([{"type": "text", "text": text}], "end_turn")


def api_error(status: int, kind: str | None = None, text: str = "fake error", *, retry_after_ms: int = 10) -> Reply:
    kind = kind or {429: "rate_limit_error", 529: "overloaded_error", 401: "authentication_error"}.get(status, "api_error")
    return Reply(
        status=status,
        body={"type": "error", "error": {"type": kind, "message": text}},
        headers={"retry-after-ms": str(retry_after_ms)},
    )


def _invalid(text: str) -> Reply:
    return Reply(status=400, body={"type": "error", "error": {"type": "invalid_request_error", "message": text}})


def check_request(body: dict[str, Any]) -> str | None:
    """What the real API would reject in this body (a subset of its checks), or None."""
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: Field required"
    tools = [t.get("name") for t in body.get("tools", [])]
    if len(tools) != len(set(tools)):
        return "tools: Tool names must be unique"
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "tool" and choice.get("name") not in tools:
        return f"tool_choice: tool {choice.get('name')!r} not found in tools"
    messages = body["messages"]
    if not messages or messages[0].get("role") != "user":
        return "messages: first message must use the user role"
    pending: set[str] = set()
    for index, msg in enumerate(messages):
        role = msg.get("role")
        if index and role == messages[index - 1].get("role"):
            return f"messages.{index}: roles must alternate between user and assistant"
        content = msg.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        if not blocks:
            return f"messages.{index}: content must be non-empty"
        for block in blocks:
            if block.get("type") == "text" and not block.get("text"):
                return f"messages.{index}: text content blocks must be non-empty"
        if role == "user":
            answered = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
            if pending - answered:
                return f"messages.{index}: tool_use ids without tool_result: {sorted(pending - answered)}"
            if answered - pending:
                return f"messages.{index}: unexpected tool_use_id in tool_result: {sorted(answered - pending)}"
            pending = set()
        else:
            if pending:
                return f"messages.{index}: tool_use ids without tool_result: {sorted(pending)}"
            pending = {b["id"] for b in blocks if b.get("type") == "tool_use"}
    return None


def _tokens(value: Any) -> int:
    return len(json.dumps(value, sort_keys=True)) // 4 + 1


class FakeAnthropic(ScriptedFake):
    def __init__(self, *, api_key: str = "test-key", delay_ms: float = 0.0) -> None:
        super().__init__(delay_ms=delay_ms)
        self.api_key = api_key
        self._cached_prefixes: set[str] = set()
        self._lock = threading.Lock()

    def _usage(self, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, int]:
        prefix = {"tools": body.get("tools", []), "system": body.get("system", "")}
        cached = any("cache_control" in b for b in body.get("system", []) if isinstance(b, dict)) or any(
            "cache_control" in t for t in body.get("tools", [])
        )
        cache_read = cache_creation = 0
        if cached:
            digest = hashlib.sha256(json.dumps(prefix, sort_keys=True).encode()).hexdigest()
            with self._lock:
                hit = digest in self._cached_prefixes
                self._cached_prefixes.add(digest)
            if hit:
                cache_read = _tokens(prefix)
            else:
                cache_creation = _tokens(prefix)
        input_tokens = _tokens(body["messages"]) + (0 if cached else _tokens(prefix))
        return {
            "input_tokens": input_tokens,
            "output_tokens": _tokens(content),
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": cache_creation,
        }

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/messages")
        async def messages(request: Request) -> JSONResponse:
            auth = None
            if request.headers.get("x-api-key") == self.api_key:
                auth = "x-api-key"
            elif request.headers.get("authorization") == f"Bearer {self.api_key}":
                auth = "bearer"
            return await self.recorded(request, auth, self._answer)

        return app

    async def _answer(self, body: dict[str, Any], auth: str | None) -> JSONResponse:
        if auth is None:
            reply = api_error(401, text="invalid x-api-key")
        elif problem := check_request(body):
            reply = _invalid(problem)
        else:
            reply = self.next_reply(body, exhausted=_invalid("fake: no scripted reply left for this request"))
        hung = JSONResponse({"type": "error", "error": {"type": "api_error", "message": "hung"}}, 500)
        if (held := await self.hold(reply, hung=hung)) is not None:
            return held
        if reply.status != 200:
            return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)
        content = (reply.body or {}).get("content", [])
        payload = {
            "id": f"msg_fake_{next(_ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": (reply.body or {}).get("stop_reason", "end_turn"),
            "stop_sequence": None,
            "usage": self._usage(body, content),
        }
        return JSONResponse(payload, headers=reply.headers)


def agent_script(tool_turns: int = 3) -> Handler:
    """A model that makes `tool_turns` tool turns (one call each, going round the offered tools with
    no arguments), then reports a finding; answers synthesis requests with a synthesis."""

    def handle(body: dict[str, Any]) -> Reply:
        names = [t["name"] for t in body.get("tools", [])]
        if "report_synthesis" in names:
            return synthesis_turn("Scripted incident", "Scripted diagnosis.", ["Scripted step."], overall_severity="ok")
        results = sum(
            1
            for m in body["messages"]
            if m["role"] == "user" and isinstance(m["content"], list) and any(b.get("type") == "tool_result" for b in m["content"])
        )
        done = results - 1  # the first tool result is the seeded analysis context
        callable_tools = [n for n in names if n not in ("report_finding", "analysis_context")]
        forced = (body.get("tool_choice") or {}).get("type") == "tool"
        if forced or done >= tool_turns or not callable_tools:
            return finding_turn("ok", "Scripted finding.", signals={"turns": float(done)})
        return tool_use_turn((callable_tools[done % len(callable_tools)], {}))

    return handle

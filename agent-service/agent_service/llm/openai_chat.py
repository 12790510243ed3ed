"""`Chat` over an OpenAI-compatible chat-completions API (real openai SDK).

The history is kept in the canonical shape whatever the model sent: an assistant message with
`tool_calls` (recovered calls included, each with an id) answered by one `tool` message per id.
Untrusted material travels only in `tool` messages. A forced turn offers only the forced
function, named in `tool_choice` (or `"required"` where the server refuses a named one). With `supports_tools=False` no tools are
offered: a forced turn asks for the tool's input as JSON (`response_format` with its JSON
schema, then `json_object`, then nothing, as far as the server accepts), read as that call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from openai import AsyncOpenAI, BadRequestError

from agent_service.engine import Usage
from agent_service.llm.calls import CallMeter
from agent_service.llm.content import to_json
from agent_service.llm.metrics import LlmRole
from agent_service.llm.openai_compat import ServerQuirks
from agent_service.llm.openai_parse import new_call_id, parse_tokens, parse_turn
from agent_service.llm.turns import Seed, ToolCall, ToolOutcome, Turn

log = logging.getLogger(__name__)


def function_tool(definition: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": definition["name"],
            "description": definition.get("description", ""),
            "parameters": definition.get("input_schema") or {"type": "object", "properties": {}},
        },
    }


def assistant_calls(calls: Sequence[ToolCall], text: str = "") -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": text,
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _arguments_text(c.input)}}
            for c in calls
        ],
    }


def _arguments_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, default=str)


def tool_message(outcome: ToolOutcome) -> dict[str, Any]:
    content = outcome.content
    if outcome.is_error and not content.startswith("error"):
        content = f"error: {content}"
    return {"role": "tool", "tool_call_id": outcome.call_id, "content": content}


def json_instruction(definition: dict[str, Any]) -> str:
    return (
        f"Answer now with only one JSON object: the input of `{definition['name']}` "
        f"({definition.get('description', '')}), matching this JSON schema:\n"
        f"{to_json(definition.get('input_schema', {}))}"
    )


class OpenAIChat:
    def __init__(
        self, client: AsyncOpenAI, meter: CallMeter, *, role: LlmRole, model: str, usage: Usage, max_tokens: int,
        messages: list[dict[str, Any]], supports_tools: bool, quirks: ServerQuirks,
    ) -> None:
        self.client = client
        self.meter = meter
        self.role: LlmRole = role
        self.model = model
        self.usage = usage
        self.max_tokens = max_tokens
        self.messages = messages
        self.supports_tools = supports_tools
        self.quirks = quirks

    async def ask(self, *, tools: Sequence[dict[str, Any]], force: str | None) -> Turn:
        forced = next((d for d in tools if d["name"] == force), None)
        offered = tools if self.supports_tools else []
        if forced is not None and not offered:
            self.messages.append({"role": "user", "content": json_instruction(forced)})
        data = await self._send(offered, forced)
        turn = parse_turn(data, [d["name"] for d in tools], force)
        if forced is not None and not offered and not turn.calls:
            # JSON mode: whatever came is the answer, so its problem goes to the repair turn
            turn = Turn(calls=[ToolCall(new_call_id(), forced["name"], turn.text)], text=turn.text,
                        stop_reason=turn.stop_reason)
        if turn.calls:
            self.messages.append(assistant_calls(turn.calls))
        else:
            self.messages.append({"role": "assistant", "content": turn.text or "(no answer)"})
        return turn

    def _request(self, tools: Sequence[dict[str, Any]], forced: dict[str, Any] | None) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, self.quirks.token_limit: self.max_tokens, "messages": self.messages}
        if tools:
            # a forced turn offers only the forced function: a server that ignores tool_choice
            # (Ollama; llama.cpp reads only its string forms) can then call nothing else
            request["tools"] = [function_tool(d) for d in ([forced] if forced else tools)]
            request["tool_choice"] = self.quirks.tool_choice(forced["name"]) if forced else "auto"
        elif forced is not None:
            fmt = self.quirks.response_format(forced["name"], forced.get("input_schema", {}))
            if fmt is not None:
                request["response_format"] = fmt
        return request

    async def _send(self, tools: Sequence[dict[str, Any]], forced: dict[str, Any] | None) -> dict[str, Any]:
        while True:
            request = self._request(tools, forced)
            try:
                return await self.meter.run(
                    self._create(request), role=self.role, model=self.model, usage=self.usage, tokens=parse_tokens
                )
            except BadRequestError as exc:
                change = self.quirks.adapt(str(exc), format_sent="response_format" in request)
                if change is None:
                    raise
                log.warning("%s (the server said: %s)", change, str(exc)[:200])

    async def _create(self, request: dict[str, Any]) -> dict[str, Any]:
        """The raw JSON answer: the SDK's typed model would hide the shapes local servers send."""
        raw = await self.client.chat.completions.with_raw_response.create(**request)
        return _body(raw.text)

    def record(self, calls: Sequence[ToolCall], outcomes: Sequence[ToolOutcome]) -> None:
        """Calls the engine made itself (JSON mode), as if the model had made them."""
        if calls:
            self.messages.append(assistant_calls(calls))
            self.reply(outcomes)

    def reply(self, outcomes: Sequence[ToolOutcome]) -> None:
        self.messages.extend(tool_message(o) for o in outcomes)

    def nudge(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})


def _body(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


class OpenAIChats:
    def __init__(self, client: AsyncOpenAI, meter: CallMeter, *, max_tokens: int, supports_tools: bool) -> None:
        self.client = client
        self.meter = meter
        self.max_tokens = max_tokens
        self.supports_tools = supports_tools
        self.quirks = ServerQuirks()

    def open(self, *, role: LlmRole, model: str, usage: Usage, system: str, intro: str, seed: Seed) -> OpenAIChat:
        """system → user(intro) → assistant(call seed.tool) → tool(seed.payload)."""
        call = ToolCall(new_call_id(), seed.tool, {})
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": intro},
            assistant_calls([call]),
            {"role": "tool", "tool_call_id": call.id, "content": to_json(seed.payload)},
        ]
        return OpenAIChat(
            self.client, self.meter, role=role, model=model, usage=usage, max_tokens=self.max_tokens,
            messages=messages, supports_tools=self.supports_tools, quirks=self.quirks,
        )

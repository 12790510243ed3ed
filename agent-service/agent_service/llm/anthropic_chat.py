"""`Chat` over the Anthropic Messages API: cached system and tools, tool_use / tool_result
blocks, the assistant's content kept as it came (thinking blocks included)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from agent_service.engine import Usage
from agent_service.llm.calls import LlmCaller
from agent_service.llm.messages import (
    assistant_message,
    cached_tools,
    forced,
    seeded_messages,
    system_blocks,
    text_of,
    tool_result,
    tool_uses,
)
from agent_service.llm.metrics import LlmRole
from agent_service.llm.turns import Seed, ToolCall, ToolOutcome, Turn


class AnthropicChat:
    def __init__(
        self, caller: LlmCaller, *, role: LlmRole, model: str, usage: Usage, max_tokens: int, system: str,
        messages: list[dict[str, Any]],
    ) -> None:
        self.caller = caller
        self.role: LlmRole = role
        self.model = model
        self.usage = usage
        self.max_tokens = max_tokens
        self.system = system_blocks(system)
        self.messages = messages

    async def ask(self, *, tools: Sequence[dict[str, Any]], force: str | None) -> Turn:
        response = await self.caller.create(
            role=self.role,
            model=self.model,
            usage=self.usage,
            max_tokens=self.max_tokens,
            system=self.system,
            tools=cached_tools(tools),
            tool_choice=forced(force) if force else {"type": "auto"},
            messages=self.messages,
        )
        self.messages.append(assistant_message(response.content))
        calls = [ToolCall(u.id, u.name, u.input) for u in tool_uses(response.content)]
        return Turn(calls=calls, text=text_of(response.content), stop_reason=response.stop_reason)

    def reply(self, outcomes: Sequence[ToolOutcome]) -> None:
        blocks = [tool_result(o.call_id, o.content, is_error=o.is_error) for o in outcomes]
        self.messages.append({"role": "user", "content": blocks})

    def nudge(self, text: str) -> None:
        self.messages.append({"role": "user", "content": [{"type": "text", "text": text}]})


class AnthropicChats:
    """Opens a chat seeded with one tool exchange carrying the untrusted material."""

    def __init__(self, caller: LlmCaller, *, max_tokens: int) -> None:
        self.caller = caller
        self.max_tokens = max_tokens

    def open(self, *, role: LlmRole, model: str, usage: Usage, system: str, intro: str, seed: Seed) -> AnthropicChat:
        messages = seeded_messages(
            intro, tool_name=seed.tool, tool_use_id=f"toolu_{seed.tool[:3]}_{uuid.uuid4().hex[:16]}", payload=seed.payload
        )
        return AnthropicChat(
            self.caller, role=role, model=model, usage=usage, max_tokens=self.max_tokens, system=system, messages=messages
        )

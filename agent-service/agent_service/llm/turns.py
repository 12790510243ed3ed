"""What the shared loops see of one model, whatever its API: a turn (text + tool calls), the
outcome of each call, and the conversation the loops drive (`Chat`).

Each engine implements `Chat` over its own wire format (Anthropic content blocks, OpenAI
chat-completions messages); the bounded specialist loop (loop.py), the synthesis call
(synthesis_call.py) and the tool runner only ever use these types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent_service.tools.base import Tool


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    input: Any  # a dict when the model wrote a JSON object; anything else is refused by the runner


@dataclass(frozen=True)
class ToolOutcome:
    call_id: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class Turn:
    calls: list[ToolCall] = field(default_factory=list)
    text: str = ""
    stop_reason: str | None = None


@dataclass(frozen=True)
class Seed:
    """Material handed to the model as the result of a tool it seems to have called (untrusted
    text never enters a prompt)."""

    tool: str
    payload: Any


class Chat(Protocol):
    async def ask(self, *, tools: Sequence[dict[str, Any]], force: str | None) -> Turn:
        """One model call with these tool definitions ({name, description, input_schema});
        `force` names the tool the model must call. The answer joins the history."""
        ...

    def reply(self, outcomes: Sequence[ToolOutcome]) -> None:
        """One outcome per call of the last turn, in its order."""
        ...

    def nudge(self, text: str) -> None:
        """Our own words after a turn without tool calls."""
        ...


def tool_definition(tool: Tool) -> dict[str, Any]:
    """A tool as the loops offer it; each Chat turns it into its API's shape."""
    return {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}

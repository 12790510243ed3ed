"""Building Anthropic Messages API requests: system blocks, cached tool lists, seeded tool results, and the
assistant's content turned back into request params.

Untrusted material (scope names from alerts, findings derived from logs) only ever travels in a
`tool_result` block: a seeded exchange makes it look like a tool the model called.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from agent_service.llm.content import to_json

EPHEMERAL = {"type": "ephemeral"}


def system_blocks(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "cache_control": EPHEMERAL}]


def cached_tools(definitions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of the definitions, with a cache breakpoint on the last one (caches all of them)."""
    tools = [dict(d) for d in definitions]
    if tools:
        tools[-1]["cache_control"] = EPHEMERAL
    return tools


def forced(name: str) -> dict[str, Any]:
    return {"type": "tool", "name": name}


def seeded_messages(intro: str, *, tool_name: str, tool_use_id: str, payload: Any) -> list[dict[str, Any]]:
    """user(intro) → assistant(tool_use tool_name) → user(tool_result payload)."""
    return [
        {"role": "user", "content": [{"type": "text", "text": intro}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": tool_use_id, "name": tool_name, "input": {}}]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool_use_id, "content": to_json(payload)}],
        },
    ]


def assistant_message(content: Sequence[Any]) -> dict[str, Any]:
    """The response's content blocks as request params, for the next turn's history."""
    blocks: list[dict[str, Any]] = []
    for block in content:
        if block.type == "text" and block.text:
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        elif block.type == "thinking":
            blocks.append({"type": "thinking", "thinking": block.thinking, "signature": block.signature})
    if not blocks:
        blocks.append({"type": "text", "text": "(no answer)"})
    return {"role": "assistant", "content": blocks}


def tool_result(tool_use_id: str, content: str, *, is_error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
    if is_error:
        block["is_error"] = True
    return block


def tool_uses(content: Sequence[Any]) -> list[Any]:
    return [block for block in content if block.type == "tool_use"]


def text_of(content: Sequence[Any]) -> str:
    return "\n".join(block.text for block in content if block.type == "text" and block.text).strip()

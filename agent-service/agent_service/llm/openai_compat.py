"""What an OpenAI-compatible server turned out to refuse, learnt from its 400s and kept for the
engine's later calls (pure: the error text in, the change to make out)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FORMATS = ("json_schema", "json_object", "none")
_FORMAT_WORDS = ("response_format", "json_schema", "json_object")


@dataclass
class ServerQuirks:
    token_limit: str = "max_tokens"  # OpenAI's newer models want max_completion_tokens
    named_tool_choice: bool = True  # else "required" (with the forced function the only one offered)
    format_level: int = 0  # the strongest response format not refused yet (FORMATS)

    def tool_choice(self, name: str) -> dict[str, Any] | str:
        return {"type": "function", "function": {"name": name}} if self.named_tool_choice else "required"

    def response_format(self, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        kind = FORMATS[self.format_level]
        if kind == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
        return {"type": "json_object"} if kind == "json_object" else None

    def adapt(self, error: str, *, format_sent: bool) -> str | None:
        """After a 400 with this text: what changed before trying again, or None (the 400 stands).
        Every change is one step along a finite list, so the retries are bounded."""
        text = error.lower()
        if self.token_limit == "max_tokens" and "max_completion_tokens" in text:
            self.token_limit = "max_completion_tokens"
            return "the server wants max_completion_tokens"
        if self.named_tool_choice and "tool_choice" in text:
            self.named_tool_choice = False
            return "a named tool_choice refused; forcing with tool_choice=required"
        if format_sent and any(w in text for w in _FORMAT_WORDS) and self.format_level + 1 < len(FORMATS):
            self.format_level += 1
            return f"response_format refused; trying {FORMATS[self.format_level]}"
        return None

"""The tool contract: a typed object the loops (Claude or rules) call by name.

A failing or unknown tool is a ToolResult with status "error", never an exception: the loop
sends it back to the model with `is_error: true` and goes on.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel


class ToolResult(BaseModel):
    status: Literal["ok", "error"]
    data: Any = None
    error: str | None = None

    @classmethod
    def ok(cls, data: Any) -> ToolResult:
        return cls(status="ok", data=data)

    @classmethod
    def fail(cls, error: str) -> ToolResult:
        return cls(status="error", error=error)


class Tool(Protocol):
    name: str
    description: str
    input_schema: dict[str, Any]

    async def run(self, arguments: dict[str, Any]) -> ToolResult: ...

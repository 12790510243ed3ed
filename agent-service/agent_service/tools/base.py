"""The tool contract: a typed object the loops (Claude or rules) call by name.

A failing or unknown tool is a ToolResult with status "error", never an exception: the loop
sends it back to the model with `is_error: true` and goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel

from agent_service.models import Scope, Window


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


@runtime_checkable
class AnalysisTool(Protocol):
    """An extra tool whose defaults depend on the analysis (its window and scope): the orchestrator
    binds it once per analysis with `for_analysis` before any specialist sees it."""

    name: str

    def for_analysis(self, window: Window, scope: Scope) -> Tool: ...


def bind_tools(tools: Sequence[Tool], window: Window, scope: Scope) -> list[Tool]:
    return [t.for_analysis(window, scope) if isinstance(t, AnalysisTool) else t for t in tools]

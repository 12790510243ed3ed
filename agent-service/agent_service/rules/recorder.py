"""Runs tools by name for the rules engine and keeps every call as evidence."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from agent_service.models import Evidence
from agent_service.tools.base import Tool, ToolResult


class Recorder:
    def __init__(self, tools: Sequence[Tool]) -> None:
        self.tools = {tool.name: tool for tool in tools}
        self.evidence: list[Evidence] = []
        self.errors: list[str] = []
        self.calls = 0

    def has(self, name: str) -> bool:
        return name in self.tools

    async def call(self, name: str, **arguments: Any) -> Any:
        """The tool's data, or None when it failed (the error is kept as evidence too)."""
        return (await self.call_many([(name, arguments)]))[0]

    async def call_many(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Several calls at once; evidence is kept in the order asked, so reports stay stable."""
        cleaned = [(name, {k: v for k, v in args.items() if v is not None}) for name, args in calls]
        results = await asyncio.gather(*(self._run(name, args) for name, args in cleaned))
        out: list[Any] = []
        for (name, args), result in zip(cleaned, results, strict=True):
            if result.status == "ok":
                self.evidence.append(Evidence(tool=name, arguments=args, result=result.data))
                out.append(result.data)
            else:
                if (result.error or f"{name} failed") not in self.errors:
                    self.errors.append(result.error or f"{name} failed")
                self.evidence.append(Evidence(tool=name, arguments=args, result={"error": result.error}))
                out.append(None)
        return out

    async def _run(self, name: str, args: dict[str, Any]) -> ToolResult:
        tool = self.tools.get(name)
        if tool is None:
            result = ToolResult.fail(f"tool {name} is not available to this specialist")
        else:
            self.calls += 1
            try:
                result = await tool.run(args)
            except Exception as exc:  # a tool must not raise; if one does, it is an error value
                result = ToolResult.fail(f"{name} raised {type(exc).__name__}: {exc}")
        return result

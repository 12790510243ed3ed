"""A tool wrapper that counts calls per specialist in oncall_tool_calls_total."""

from __future__ import annotations

from typing import Any

from agent_service.metrics import AgentMetrics
from agent_service.tools.base import Tool, ToolResult


class MeteredTool:
    def __init__(self, tool: Tool, *, specialist: str, metrics: AgentMetrics | None) -> None:
        self._tool = tool
        self._specialist = specialist
        self._metrics = metrics
        self.name = tool.name
        self.description = tool.description
        self.input_schema = tool.input_schema

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        try:
            result = await self._tool.run(arguments)
        except Exception as exc:  # a tool must never raise; turn it into an error value
            result = ToolResult.fail(f"{self.name} failed: {type(exc).__name__}: {exc}")
        if self._metrics is not None:
            self._metrics.tool_calls.labels(self._specialist, self.name, result.status).inc()
        return result

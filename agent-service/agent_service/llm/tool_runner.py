"""Runs one turn's tool calls concurrently and turns them into outcomes (one per call id).

Unknown tools, refused identical repeats, failures, exceptions and timeouts all become
`is_error` outcomes; evidence is recorded only for the calls that really ran.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from agent_service.engine import Usage
from agent_service.llm.content import to_json
from agent_service.llm.metrics import LlmMetrics
from agent_service.llm.turns import ToolCall, ToolOutcome
from agent_service.models import Evidence
from agent_service.tools.base import Tool, ToolResult
from agent_service.tools.ingestion import cap

log = logging.getLogger(__name__)

UNKNOWN_TOOL_LABEL = "__unknown__"


def call_key(name: str, arguments: Any) -> str:
    return name + "\x00" + json.dumps(arguments, sort_keys=True, default=str)


def cut(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    note = (
        f"\n[truncated: this result has {len(text)} characters and the limit is {limit}. "
        "Narrow the query (a shorter window, one backend or frontend, fewer items) to see the rest.]"
    )
    return text[: max(0, limit - len(note))] + note, True


class ToolRunner:
    def __init__(
        self,
        tools: Sequence[Tool],
        *,
        specialist: str,
        timeout_s: float,
        max_chars: int,
        metrics: LlmMetrics | None = None,
    ) -> None:
        self.tools = {tool.name: tool for tool in tools}
        self.specialist = specialist
        self.timeout_s = timeout_s
        self.max_chars = max_chars
        self.metrics = metrics
        self.evidence: list[Evidence] = []
        self.usage = Usage()
        self._seen: set[str] = set()

    def mark_called(self, name: str, arguments: Any) -> None:
        """A call whose result the model already has (e.g. a seeded one): repeats are refused."""
        self._seen.add(call_key(name, arguments))

    async def run_turn(self, uses: Sequence[ToolCall]) -> list[ToolOutcome]:
        slots: list[Any] = []
        for use in uses:
            key = call_key(use.name, use.input)
            if use.name not in self.tools:
                slots.append(self._refuse(use, f"unknown tool {use.name!r}; available: {sorted(self.tools)}"))
            elif key in self._seen:
                slots.append(
                    self._refuse(use, "refused: an identical call was already made; its result is above")
                )
            else:
                self._seen.add(key)
                slots.append(self._run(use))
        return list(await asyncio.gather(*slots))

    async def _refuse(self, use: ToolCall, reason: str) -> ToolOutcome:
        label = use.name if use.name in self.tools else UNKNOWN_TOOL_LABEL
        self._meter(label, "error")
        return ToolOutcome(use.id, reason, is_error=True)

    async def _run(self, use: ToolCall) -> ToolOutcome:
        tool = self.tools[use.name]
        arguments = use.input if isinstance(use.input, dict) else {}
        try:
            if not isinstance(use.input, dict):
                result = ToolResult.fail("tool input must be a JSON object")
            else:
                result = await asyncio.wait_for(tool.run(arguments), self.timeout_s)
        except TimeoutError:
            result = ToolResult.fail(f"tool timed out after {self.timeout_s:g} s")
        except Exception as exc:  # one tool's bug never sinks the loop; the model sees the error
            log.warning("tool %s raised", use.name, exc_info=True)
            result = ToolResult.fail(f"tool failed: {type(exc).__name__}: {exc}")
        self.usage.tool_calls += 1
        self._meter(use.name, result.status)
        if result.status == "ok":
            # What the model sees (and what grounds it): a big answer (the breakdown) loses whole
            # list entries with a note saying so before any raw cut.
            data = cap(result.data, self.max_chars)
            text, truncated = cut(to_json(data), self.max_chars)
            self.evidence.append(Evidence(tool=use.name, arguments=arguments, result=text if truncated else data))
            return ToolOutcome(use.id, text)
        error = result.error or "tool failed"
        self.evidence.append(Evidence(tool=use.name, arguments=arguments, result={"error": error}))
        text, _ = cut(f"error: {error}", self.max_chars)
        return ToolOutcome(use.id, text, is_error=True)

    def _meter(self, tool: str, status: str) -> None:
        if self.metrics:
            self.metrics.tool_call(specialist=self.specialist, tool=tool, status=status)

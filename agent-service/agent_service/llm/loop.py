"""The bounded tool-use loop of one specialist.

Each turn: call the model; run every tool_use block of the turn concurrently; send back one
user message with all the tool_result blocks. At most `max_steps` turns; the last one withholds
every tool but `report_finding` and forces it. An invalid finding gets one repair turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent_service.engine import Usage
from agent_service.llm.calls import LlmCaller
from agent_service.llm.finding_tool import FINDING_TOOL, REPORT_FINDING, FindingInput, validate
from agent_service.llm.messages import (
    assistant_message,
    cached_tools,
    forced,
    system_blocks,
    tool_result,
    tool_uses,
)
from agent_service.llm.tool_runner import ToolRunner

NUDGE = "Report your verdict now by calling report_finding."
NOT_RUN = "not run: report_finding ended the investigation"


@dataclass
class LoopOutcome:
    finding: FindingInput | None
    error: str | None
    steps: int


async def run_specialist_loop(
    caller: LlmCaller,
    runner: ToolRunner,
    *,
    model: str,
    system: str,
    tool_definitions: Sequence[dict[str, Any]],
    messages: list[dict[str, Any]],
    max_steps: int,
    max_tokens: int,
    usage: Usage,
) -> LoopOutcome:
    """Never more than max_steps + 1 calls (the +1 is the repair turn). API errors propagate."""
    open_tools = cached_tools([*tool_definitions, FINDING_TOOL])
    final_tools = cached_tools([FINDING_TOOL])
    system_param = system_blocks(system)
    force = False
    repaired = False
    step = 0
    while True:
        step += 1
        last = force or step >= max_steps
        response = await caller.create(
            role="specialist",
            model=model,
            usage=usage,
            max_tokens=max_tokens,
            system=system_param,
            tools=final_tools if last else open_tools,
            tool_choice=forced(REPORT_FINDING) if last else {"type": "auto"},
            messages=messages,
        )
        messages.append(assistant_message(response.content))
        uses = tool_uses(response.content)
        report = next((u for u in uses if u.name == REPORT_FINDING), None)
        if report is not None:
            finding, problem = validate(FindingInput, report.input)
            if finding is not None:
                return LoopOutcome(finding, None, step)
            if repaired:
                return LoopOutcome(None, f"{problem} (still invalid after one repair turn)", step)
            repaired = force = True
            results = [tool_result(u.id, NOT_RUN, is_error=True) for u in uses if u is not report]
            results.append(tool_result(report.id, f"{problem}. Call report_finding again with valid input.", is_error=True))
            messages.append({"role": "user", "content": results})
            continue
        if last:
            return LoopOutcome(
                None, f"no report_finding after {step} turns (last stop_reason {response.stop_reason})", step
            )
        if uses:
            messages.append({"role": "user", "content": await runner.run_turn(uses)})
        else:  # a text answer or a refusal: ask for the finding, forcing the tool
            messages.append({"role": "user", "content": [{"type": "text", "text": NUDGE}]})
            force = True

"""The bounded tool-use loop of one specialist, for every engine (through `Chat`).

Each turn: call the model; run every tool call of the turn concurrently; send back one outcome
per call. At most `max_steps` turns; the last one withholds every tool but `report_finding` and
forces it. An invalid finding gets one repair turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent_service.llm.finding_tool import FINDING_TOOL, REPORT_FINDING, FindingInput, validate
from agent_service.llm.tool_runner import ToolRunner
from agent_service.llm.turns import Chat, ToolOutcome

NUDGE = "Report your verdict now by calling report_finding."
NOT_RUN = "not run: report_finding ended the investigation"


@dataclass
class LoopOutcome:
    finding: FindingInput | None
    error: str | None
    steps: int


async def run_specialist_loop(
    chat: Chat,
    runner: ToolRunner,
    *,
    tool_definitions: Sequence[dict[str, Any]],
    max_steps: int,
) -> LoopOutcome:
    """Never more than max_steps + 1 calls (the +1 is the repair turn). API errors propagate."""
    open_tools = [*tool_definitions, FINDING_TOOL]
    final_tools = [FINDING_TOOL]
    force = False
    repaired = False
    step = 0
    while True:
        step += 1
        last = force or step >= max_steps
        turn = await chat.ask(tools=final_tools if last else open_tools, force=REPORT_FINDING if last else None)
        report = next((c for c in turn.calls if c.name == REPORT_FINDING), None)
        if report is not None:
            finding, problem = validate(FindingInput, report.input)
            if finding is not None:
                return LoopOutcome(finding, None, step)
            if repaired:
                return LoopOutcome(None, f"{problem} (still invalid after one repair turn)", step)
            repaired = force = True
            outcomes = [ToolOutcome(c.id, NOT_RUN, is_error=True) for c in turn.calls if c is not report]
            outcomes.append(
                ToolOutcome(report.id, f"{problem}. Call report_finding again with valid input.", is_error=True)
            )
            chat.reply(outcomes)
            continue
        if last:
            return LoopOutcome(
                None, f"no report_finding after {step} turns (last stop_reason {turn.stop_reason})", step
            )
        if turn.calls:
            chat.reply(await runner.run_turn(turn.calls))
        else:  # a text answer or a refusal: ask for the finding, forcing the tool
            chat.nudge(NUDGE)
            force = True

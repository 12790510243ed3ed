"""The synthesis call, for every engine: findings (derived from untrusted data) in a seeded tool
result, the answer through the forced `report_synthesis` tool, one repair turn on invalid input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent_service.engine import Synthesis
from agent_service.llm.finding_tool import REPORT_SYNTHESIS, SYNTHESIS_TOOL, SynthesisInput, validate
from agent_service.llm.turns import Chat, Seed, ToolOutcome
from agent_service.models import Finding

FINDINGS_TOOL = "specialist_findings"
FINDINGS_DEFINITION = {
    "name": FINDINGS_TOOL,
    "description": "The four specialists' findings and the analysis window and scope.",
    "input_schema": {"type": "object", "properties": {}},
}
INTRO = f"Merge the findings in the `{FINDINGS_TOOL}` tool result into one report."


def findings_payload(findings: Sequence[Finding], context: dict[str, Any]) -> dict[str, Any]:
    return {
        **context,
        "findings": [
            f.model_dump(mode="json", include={"specialist", "status", "severity", "summary", "details", "signals", "error"})
            for f in findings
        ],
    }


def findings_seed(findings: Sequence[Finding], context: dict[str, Any]) -> Seed:
    return Seed(FINDINGS_TOOL, findings_payload(findings, context))


async def run_synthesis(chat: Chat) -> Synthesis | str:
    """The Synthesis, or the reason there is none. API errors propagate."""
    tools = [FINDINGS_DEFINITION, SYNTHESIS_TOOL]
    problem = "no report_synthesis call"
    for attempt in range(2):  # the answer, then at most one repair turn
        turn = await chat.ask(tools=tools, force=REPORT_SYNTHESIS)
        report = next((c for c in turn.calls if c.name == REPORT_SYNTHESIS), None)
        if report is not None:
            parsed, error = validate(SynthesisInput, report.input)
            if parsed is not None:
                return Synthesis(**parsed.model_dump())
            problem = error or problem
        if attempt == 0:
            if turn.calls:
                chat.reply([
                    ToolOutcome(c.id, f"{problem}. Call report_synthesis again with valid input." if c is report else "not run",
                                is_error=True)
                    for c in turn.calls
                ])
            else:
                chat.nudge("Call report_synthesis.")
    return f"{problem} (still invalid after one repair turn)"

"""The synthesis call: findings (derived from untrusted data) in a tool result, the answer through
the forced `report_synthesis` tool, one repair turn on invalid input."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from agent_service.engine import Synthesis, Usage
from agent_service.llm.calls import LlmCaller
from agent_service.llm.finding_tool import REPORT_SYNTHESIS, SYNTHESIS_TOOL, SynthesisInput, validate
from agent_service.llm.messages import (
    assistant_message,
    cached_tools,
    forced,
    question_text,
    seeded_messages,
    system_blocks,
    tool_result,
    tool_uses,
)
from agent_service.models import Finding

FINDINGS_TOOL = "specialist_findings"
FINDINGS_DEFINITION = {
    "name": FINDINGS_TOOL,
    "description": "The four specialists' findings and the analysis window and scope.",
    "input_schema": {"type": "object", "properties": {}},
}


def findings_payload(findings: Sequence[Finding], context: dict[str, Any]) -> dict[str, Any]:
    return {
        **context,
        "findings": [
            f.model_dump(mode="json", include={"specialist", "status", "severity", "summary", "details", "signals", "error"})
            for f in findings
        ],
    }


async def run_synthesis(
    caller: LlmCaller,
    *,
    model: str,
    system: str,
    findings: Sequence[Finding],
    context: dict[str, Any],
    question: str | None,
    max_tokens: int,
    usage: Usage,
) -> Synthesis | str:
    """The Synthesis, or the reason there is none. API errors propagate."""
    messages = seeded_messages(
        f"Merge the findings in the `{FINDINGS_TOOL}` tool result into one report." + question_text(question),
        tool_name=FINDINGS_TOOL,
        tool_use_id=f"toolu_fnd_{uuid.uuid4().hex[:16]}",
        payload=findings_payload(findings, context),
    )
    tools = cached_tools([FINDINGS_DEFINITION, SYNTHESIS_TOOL])
    problem = "no report_synthesis call"
    for attempt in range(2):  # the answer, then at most one repair turn
        response = await caller.create(
            role="synthesis",
            model=model,
            usage=usage,
            max_tokens=max_tokens,
            system=system_blocks(system),
            tools=tools,
            tool_choice=forced(REPORT_SYNTHESIS),
            messages=messages,
        )
        uses = tool_uses(response.content)
        report = next((u for u in uses if u.name == REPORT_SYNTHESIS), None)
        if report is not None:
            parsed, error = validate(SynthesisInput, report.input)
            if parsed is not None:
                return Synthesis(**parsed.model_dump())
            problem = error or problem
        if attempt == 0:
            messages.append(assistant_message(response.content))
            results = [
                tool_result(u.id, f"{problem}. Call report_synthesis again with valid input." if u is report else "not run", is_error=True)
                for u in uses
            ]
            messages.append({"role": "user", "content": results or [{"type": "text", "text": "Call report_synthesis."}]})
    return f"{problem} (still invalid after one repair turn)"

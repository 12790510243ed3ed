"""`propose_remediation`: a model engine's way to propose a typed remediation. Bound once per
analysis (`for_analysis`), it collects what the model proposes; the orchestrator validates the
collection with the rules engine's proposals (validate.py) before the report carries them.
Nothing is executed here: a proposal waits for a human's approval on the incident."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from agent_service.models import Scope, Window
from agent_service.remediation.models import AnyProposal, ProposalInput, summary
from agent_service.tools.base import ToolResult
from agent_service.tools.schema import input_schema, short_errors

NAME = "propose_remediation"
MAX_PER_ANALYSIS = 8


@runtime_checkable
class ProposalCollector(Protocol):
    collected: list[AnyProposal]


class ProposeRemediationTool:
    name = NAME
    description = (
        "Propose one remediation for a human to approve (never executed without approval): "
        "drain_server / set_server_weight / set_maxconn (backend and server as the data names them), "
        "rollback (to the version before a recorded change), scale_out, rate_limit (a path or client), "
        "escalate (to whom, why). Give the evidence (the numbers or events it rests on), the risk and "
        "how to undo it. Propose only what the signals support; call once per proposal."
    )
    input_schema: dict[str, Any] = input_schema(ProposalInput)

    def __init__(self) -> None:
        self.collected: list[AnyProposal] = []

    def for_analysis(self, window: Window, scope: Scope) -> ProposeRemediationTool:
        return ProposeRemediationTool()

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        try:
            parsed = ProposalInput.model_validate(arguments or {})
        except ValidationError as exc:
            return ToolResult.fail(f"invalid arguments for {self.name}: {short_errors(exc)}")
        if len(self.collected) >= MAX_PER_ANALYSIS:
            return ToolResult.fail(f"at most {MAX_PER_ANALYSIS} proposals per analysis")
        self.collected.append(parsed.proposal)
        return ToolResult.ok({"recorded": summary(parsed.proposal),
                              "note": "recorded for validation; a human approves or rejects it"})

"""The forced-answer tools: `report_finding` (a specialist's verdict) and `report_synthesis`.

Their input schemas are the parts of a Finding / Synthesis that the model writes; evidence,
status and timing are never the model's to write. Inputs are validated with pydantic; a
validation error is sent back once (the repair turn) before the answer counts as failed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent_service.tools.schema import input_schema

REPORT_FINDING = "report_finding"
REPORT_SYNTHESIS = "report_synthesis"


class FindingInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severity: Literal["ok", "warning", "critical", "unknown"] = Field(
        description="ok, warning or critical against the thresholds; unknown only if the data cannot tell"
    )
    summary: str = Field(min_length=1, max_length=600, description="One or two sentences with the key numbers")
    details: str = Field(default="", max_length=4000, description="How the numbers were read and what they mean")
    signals: dict[str, float] = Field(
        default_factory=dict,
        max_length=30,
        description="The key numbers the verdict rests on, by name (e.g. p95_ms, error_5xx_pct)",
    )


class SynthesisInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, description="A short incident title")
    diagnosis: str = Field(min_length=1, max_length=4000, description="What is wrong, how bad, and why")
    recommendations: list[str] = Field(
        default_factory=list, max_length=10, description="What to do first, most important first"
    )
    overall_severity: Literal["ok", "warning", "critical"] | None = None


def tool_definition(name: str, description: str, model: type[BaseModel]) -> dict[str, Any]:
    return {"name": name, "description": description, "input_schema": input_schema(model)}


FINDING_TOOL = tool_definition(
    REPORT_FINDING,
    "Report your finding. Call it exactly once, when you have read the signals you need.",
    FindingInput,
)
SYNTHESIS_TOOL = tool_definition(
    REPORT_SYNTHESIS,
    "Report the incident title, the diagnosis and the prioritized recommendations.",
    SynthesisInput,
)


def validate(model: type[BaseModel], raw: object) -> tuple[Any, str | None]:
    """(parsed, None) or (None, a short reason the model can act on)."""
    try:
        return model.model_validate(raw), None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(input)'}: {err['msg']}" for err in exc.errors()[:10]
        )
        return None, f"invalid {model.__name__} input: {problems}"

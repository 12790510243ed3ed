"""The contract between the orchestrator and an engine (the Claude loop or the rules engine).

The orchestrator builds the tools and the context, runs the four specialists concurrently and
merges; an engine only knows how to turn one specialist's spec + tools into a Finding, and a
list of findings into a Synthesis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from agent_service.models import (
    AlertRef,
    EngineKind,
    EngineUsage,
    Finding,
    Scope,
    Severity,
    SpecialistName,
    Window,
)
from agent_service.remediation.models import Proposal
from agent_service.tools.base import Tool


@dataclass(frozen=True)
class AnalysisContext:
    """What is being analysed. `question` is the engineer's own text from POST /analyze; text
    derived from logs or alerts never goes here (it reaches a model only inside tool results)."""

    window: Window
    scope: Scope
    question: str | None = None
    # The end of the baseline the window is compared with (None: the window's start). An analysis
    # started by an alert ends it before the alert's onset, so the baseline is not the incident.
    baseline_end: datetime | None = None
    # The alerts behind an incident's analysis (name, runbook_url): for matching runbooks only.
    alerts: tuple[AlertRef, ...] = ()


@dataclass(frozen=True)
class SpecialistSpec:
    name: SpecialistName
    prompt: str  # template name under agent_service/prompts/
    thresholds: dict[str, float]
    tool_names: tuple[str, ...]


class Synthesis(BaseModel):
    title: str = Field(max_length=200)
    diagnosis: str
    recommendations: list[str] = Field(default_factory=list)
    overall_severity: Severity | None = None
    # Remediation proposals the engine made (validated by the orchestrator before the report).
    proposals: list[Proposal] = Field(default_factory=list)


TOKEN_COUNTERS = (
    "llm_calls", "tool_calls", "input_tokens", "output_tokens",
    "cache_read_input_tokens", "cache_creation_input_tokens",
)


@dataclass
class Usage:
    llm_calls: int = 0
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0
    by_model: dict[str, int] = field(default_factory=dict)

    def add(self, other: Usage) -> None:
        for name in TOKEN_COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cost_usd += other.cost_usd
        for model, calls in other.by_model.items():
            self.by_model[model] = self.by_model.get(model, 0) + calls

    def to_engine(self, kind: EngineKind, *, specialist_model: str | None, synthesis_model: str | None) -> EngineUsage:
        counters = {name: getattr(self, name) for name in TOKEN_COUNTERS}
        return EngineUsage(
            kind=kind,
            specialist_model=specialist_model,
            synthesis_model=synthesis_model,
            cost_usd=round(self.cost_usd, 6),
            **counters,
        )


class Engine(Protocol):
    kind: EngineKind
    specialist_model: str | None
    synthesis_model: str | None

    async def investigate(
        self, spec: SpecialistSpec, tools: Sequence[Tool], context: AnalysisContext
    ) -> tuple[Finding, Usage]:
        """Run one specialist. Never raises for tool or model trouble: returns a Finding with
        status failed/timed_out and the reason. The orchestrator applies the deadline."""
        ...

    async def synthesize(
        self, findings: Sequence[Finding], context: AnalysisContext, tools: Sequence[Tool]
    ) -> tuple[Synthesis, Usage]:
        """Merge findings into title, diagnosis and prioritized recommendations. May raise;
        the orchestrator then falls back to the deterministic synthesis and says so."""
        ...

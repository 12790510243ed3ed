"""The agent-service's boundary models: the IncidentReport contract of ARCHITECTURE.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent_service.remediation.models import Proposal

Severity = Literal["ok", "warning", "critical"]
FindingSeverity = Literal["ok", "warning", "critical", "unknown"]
FindingStatus = Literal["completed", "failed", "timed_out"]
SpecialistName = Literal["latency", "errors", "saturation", "traffic"]
SourceState = Literal["ok", "unreachable"]
EngineKind = Literal["anthropic", "rules", "openai"]

SPECIALISTS: tuple[SpecialistName, ...] = ("latency", "errors", "saturation", "traffic")
SEVERITY_RANK: dict[str, int] = {"unknown": -1, "ok": 0, "warning": 1, "critical": 2}

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # a query time before this is a mistake, not history
MAX_AHEAD = timedelta(days=1)  # nor one more than a day ahead of the agent's clock


def sane_instant(when: datetime, *, now: datetime | None = None) -> datetime:
    """`when` as aware UTC (naive = UTC) if it lies in [2000-01-01, now + 1 day], else ValueError
    with the reason (a 422 at the boundary, never an OverflowError deeper down)."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    latest = (now or datetime.now(UTC)) + MAX_AHEAD
    if not EARLIEST <= aware <= latest:
        raise ValueError(f"time {when.isoformat()} is outside the sane range "
                         f"[{EARLIEST.isoformat()}, now + 1 day]")
    return aware


class AlertRef(BaseModel):
    """An alert an analysis is about: its name and runbook_url annotation (used to match runbooks;
    never put in a model prompt)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    runbook_url: str | None = Field(default=None, max_length=1000)


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: str = Field(default="15m", pattern=r"^\d{1,4}[mh]$", description="1m…24h")  # window.WINDOW_PATTERN
    end: datetime | None = None
    backend: str | None = Field(default=None, max_length=200)
    frontend: str | None = Field(default=None, max_length=200)
    question: str | None = Field(default=None, max_length=2000)
    # Compare with the hour before this instant (default: the hour before the window). An alert's
    # analysis sets it before the alert's onset.
    baseline_end: datetime | None = None
    # The alerts an incident's analysis is about (set by the incident analysis; runbook matching).
    alerts: list[AlertRef] = Field(default_factory=list, max_length=20)

    @field_validator("end", "baseline_end")
    @classmethod
    def _sane_end(cls, end: datetime | None) -> datetime | None:
        return None if end is None else sane_instant(end)


class Evidence(BaseModel):
    """One tool call the loop really ran: what was asked and what came back."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: Any = None


class Finding(BaseModel):
    specialist: SpecialistName
    severity: FindingSeverity = "unknown"
    status: FindingStatus = "completed"
    summary: str = ""
    details: str = ""
    signals: dict[str, float] = Field(default_factory=dict)
    evidence: list[Evidence] = Field(default_factory=list)
    duration_ms: float = 0.0
    error: str | None = None


class Window(BaseModel):
    start: datetime
    end: datetime
    seconds: int


class Scope(BaseModel):
    backend: str | None = None
    frontend: str | None = None


class EngineUsage(BaseModel):
    kind: EngineKind
    specialist_model: str | None = None
    synthesis_model: str | None = None
    llm_calls: int = 0
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0


class SimilarIncident(BaseModel):
    incident_id: int
    title: str
    root_cause: str | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None
    score: float = 0.0


class IncidentReport(BaseModel):
    id: str
    created_at: datetime
    window: Window
    scope: Scope
    overall_severity: Severity
    title: str
    diagnosis: str
    recommendations: list[str] = Field(default_factory=list)
    findings: list[Finding]
    engine: EngineUsage
    sources: dict[str, SourceState] = Field(default_factory=dict)
    duration_ms: float = 0.0
    similar_incidents: list[SimilarIncident] = Field(default_factory=list)
    synthesis: Literal["llm", "deterministic"] = "deterministic"
    synthesis_error: str | None = None
    ungrounded_claims: list[str] = Field(default_factory=list)
    question: str | None = None
    # Remediation (issue 20): typed proposals, validated the same way whichever engine made them.
    proposals: list[Proposal] = Field(default_factory=list)

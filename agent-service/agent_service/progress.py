"""An analysis's progress, as the orchestrator reports it to whoever asked (the console's Ask job):
each specialist started, then done with its verdict or failed, then the synthesis. Passed to
`Analyzer.analyze(request, progress=...)`; never global. Pure apart from the hook's own I/O."""

from __future__ import annotations

import time
from typing import Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict

from agent_service.models import Finding, FindingSeverity, Severity, SpecialistName

Step = Literal["latency", "errors", "saturation", "traffic", "synthesis"]
STEPS: tuple[Step, ...] = get_args(Step)
StepState = Literal["started", "done", "failed"]
Verdict = Literal["calm", "warning", "critical"]

NOTE_MAX_CHARS = 300


class ProgressEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    step: Step
    state: StepState
    verdict: Verdict | None = None  # on done: the specialist's severity, the synthesis's overall one
    note: str | None = None  # why it failed; for the synthesis, the fallback it took
    at: float


class Progress(Protocol):
    async def __call__(self, event: ProgressEvent) -> None: ...


def verdict_of(severity: FindingSeverity | Severity) -> Verdict | None:
    if severity == "unknown":
        return None
    return "calm" if severity == "ok" else severity


def _cut(text: str | None) -> str | None:
    return text if text is None or len(text) <= NOTE_MAX_CHARS else text[: NOTE_MAX_CHARS - 1] + "…"


def started(step: Step) -> ProgressEvent:
    return ProgressEvent(step=step, state="started", at=time.time())


def specialist_finished(name: SpecialistName, finding: Finding) -> ProgressEvent:
    if finding.status != "completed":
        return ProgressEvent(step=name, state="failed", at=time.time(),
                             note=_cut(finding.error or finding.status.replace("_", " ")))
    return ProgressEvent(step=name, state="done", verdict=verdict_of(finding.severity), at=time.time())


def synthesis_finished(overall: Severity, *, fallback_reason: str | None) -> ProgressEvent:
    note = None if fallback_reason is None else f"deterministic synthesis used: {fallback_reason}"
    return ProgressEvent(step="synthesis", state="done", verdict=verdict_of(overall), note=_cut(note), at=time.time())

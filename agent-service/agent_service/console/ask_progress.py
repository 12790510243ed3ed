"""An Ask job's progress lines: one per step (the four specialists, then the synthesis), folded
from the orchestrator's progress events. Pure; bounded by the steps there are."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from agent_service.progress import STEPS, ProgressEvent, Step, StepState, Verdict

MAX_PROGRESS_LINES = len(STEPS)


class StepLine(BaseModel):
    step: Step
    state: StepState
    verdict: Verdict | None = None
    note: str | None = None
    started_at: float | None = None
    finished_at: float | None = None

    def text(self) -> str:
        """The line as the page shows it (escaped there like any text)."""
        if self.state == "started":
            return f"{self.step}: running"
        took = (f" in {self.finished_at - self.started_at:.1f} s"
                if self.started_at is not None and self.finished_at is not None else "")
        said = ": ".join(part for part in (self.verdict, self.note) if part)
        return f"{self.step}: {self.state}{took}" + (f" — {said}" if said else "")


def advance(lines: Sequence[StepLine], event: ProgressEvent) -> list[StepLine]:
    """The lines after `event`: its step's line replaced (or added), in the steps' order."""
    by_step = {line.step: line for line in lines}
    if event.state == "started":
        by_step[event.step] = StepLine(step=event.step, state="started", started_at=event.at)
    else:
        begun = by_step.get(event.step)
        by_step[event.step] = StepLine(step=event.step, state=event.state, verdict=event.verdict, note=event.note,
                                       started_at=begun.started_at if begun else None, finished_at=event.at)
    return [by_step[step] for step in STEPS if step in by_step]


def stopped(lines: Sequence[StepLine], reason: str, *, at: float) -> list[StepLine]:
    """The lines of a job that ended early: what was still running failed with `reason`."""
    return [line.model_copy(update={"state": "failed", "note": reason, "finished_at": at})
            if line.state == "started" else line for line in lines]

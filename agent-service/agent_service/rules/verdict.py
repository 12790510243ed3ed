"""What a rules-engine specialist is asked about: the window (and where its baseline ends)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent_service.engine import AnalysisContext


@dataclass(frozen=True)
class CheckInput:
    window: str  # e.g. "15m", passed explicitly to every tool call so it shows in the evidence
    start: datetime
    end: datetime
    baseline_end: datetime | None = None

    @classmethod
    def of(cls, context: AnalysisContext) -> CheckInput:
        minutes = max(1, context.window.seconds // 60)
        window = f"{minutes // 60}h" if minutes % 60 == 0 and minutes >= 60 else f"{minutes}m"
        return cls(window=window, start=context.window.start, end=context.window.end,
                   baseline_end=context.baseline_end)

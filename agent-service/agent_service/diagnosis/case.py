"""One analysis' inputs for the catalogue: the breakdown, the thresholds, and the per-minute
helpers every mode shares (the partial last minute, what a baseline minute looks like)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent_service.diagnosis.changes import Change
from agent_service.diagnosis.data import Breakdown, ScopeData, Series
from agent_service.diagnosis.hypothesis import Level, Timing
from agent_service.diagnosis.prometheus import PrometheusFacts
from agent_service.diagnosis.timeline import states_of, timeline
from agent_service.specialists.specs import (
    ErrorsThresholds,
    LatencyThresholds,
    SaturationThresholds,
    TrafficThresholds,
)


@dataclass(frozen=True)
class Limits:
    latency: LatencyThresholds
    errors: ErrorsThresholds
    saturation: SaturationThresholds
    traffic: TrafficThresholds

    @property
    def min_requests(self) -> float:
        return self.latency.min_requests


@dataclass(frozen=True)
class Reference:
    """A runbook section or a resolved incident that applies to the case (fetched by the rules
    engine with search_runbooks; the story cites it). Its text is untrusted: renderers escape it."""

    kind: str  # "runbook" | "incident"
    title: str
    file: str
    heading: str
    incident_id: int | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class Case:
    data: Breakdown
    limits: Limits
    redis: Mapping[str, Any] = field(default_factory=dict)  # the saturation tool's `redis` block
    baseline_note: str = ""  # why this baseline ("the hour before the alert's onset")
    # Change events read for the window and the hour before (None: not read — no store, or failed).
    changes: tuple[Change, ...] | None = None
    prometheus: PrometheusFacts | None = None  # what Prometheus said (rules/prometheus.py); None: not asked
    references: tuple[Reference, ...] = ()  # runbook sections and past incidents that apply

    @property
    def last_minute_fraction(self) -> float:
        """How much of the window's last minute had elapsed at its end (1.0 when aligned)."""
        end = self.data.window.end
        seconds = end.second + end.microsecond / 1e6
        return seconds / 60 if seconds else 1.0

    def enough(self, s: ScopeData) -> bool:
        return s.now.requests >= self.min_requests_of(s)

    def min_requests_of(self, s: ScopeData) -> float:
        return self.limits.min_requests

    def timing(self, s: ScopeData, bad: Callable[[int], bool], good: Callable[[int], bool] | None = None) -> Timing:
        """The temporal profile of a per-minute condition `bad(i)` over the window's minutes.

        `good(i)`, when given, says the minute is clearly back to normal (under the line with a
        margin); a minute neither bad nor clearly good is noise around the line and never makes
        the signal flap or recover (timeline.py). Without it every minute that is not bad is good.
        A partial last minute counts only when it is bad (the predicate's own floor of requests
        judges it): a few seconds of requests, whose slow ones may not have ended yet, are no
        evidence of recovery."""
        series = s.now_minutes
        n = len(series)
        flags = [bad(i) for i in range(n)]
        fine = [not f if good is None else good(i) for i, f in enumerate(flags)]
        states = states_of(flags, fine)
        if n > 1 and self.last_minute_fraction < 1.0 and not flags[-1]:
            states = states[:-1]
        return Timing.of(timeline(states), series)


def level(p95: float | None, p99: float | None, th: LatencyThresholds) -> Level:
    if p99 is not None and p99 > th.p99_critical_ms:
        return "critical"
    if p95 is not None and p95 > th.p95_warning_ms:
        return "warning"
    return "ok"


def rate_level(rate: float, warning: float, critical: float) -> Level:
    if rate > critical:
        return "critical"
    if rate > warning:
        return "warning"
    return "ok"


def minute_rate(series: Series, numerator: str, i: int, *, floor: float = 5) -> float | None:
    """numerator / requests in minute i as a share (None for a minute with fewer than `floor`)."""
    n = series.col("requests")[i] if i < len(series) else 0
    if n < floor:
        return None
    return series.col(numerator)[i] / n


def mean_of(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None

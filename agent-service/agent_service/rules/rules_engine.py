"""The offline rules engine: the Engine protocol over the same tools, deterministic from the
thresholds. No network but ingestion (through the tools)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from agent_service.engine import AnalysisContext, SpecialistSpec, Synthesis, Usage
from agent_service.models import EngineKind, Finding
from agent_service.rules import errors, fetch, latency, saturation, traffic
from agent_service.rules.recorder import Recorder
from agent_service.rules.synthesis import synthesize
from agent_service.rules.verdict import CheckInput, Verdict
from agent_service.specialists.specs import (
    THRESHOLDS,
    ErrorsThresholds,
    LatencyThresholds,
    SaturationThresholds,
    TrafficThresholds,
    parse_thresholds,
)
from agent_service.tools.base import Tool

Check = Callable[[Recorder, CheckInput, Any], Awaitable[Verdict]]


# Each specialist in three steps: fetch (rules/fetch.py, the only I/O) → grade (pure) → words.


async def _latency(rec: Recorder, inp: CheckInput, th: LatencyThresholds) -> Verdict:
    facts = await fetch.fetch_latency(rec, inp)
    if latency.grade_latency(facts, th).severity != "ok":  # the trend, only when there is something to explain
        facts = await fetch.fetch_latency_before(rec, inp, facts)
    return latency.words(facts, latency.grade_latency(facts, th), th, window=inp.window)


async def _errors(rec: Recorder, inp: CheckInput, th: ErrorsThresholds) -> Verdict:
    facts = await fetch.fetch_errors(rec, inp, th)
    grades = errors.grade_errors(facts, th)
    # what the proxy saw, to explain the errors
    states = await fetch.fetch_termination_states(rec, inp) if grades.severity != "ok" else {}
    return errors.words(facts, grades, th, window=inp.window, states=states)


async def _saturation(rec: Recorder, inp: CheckInput, th: SaturationThresholds) -> Verdict:
    facts = await fetch.fetch_saturation(rec, inp)
    queueing = saturation.grade_saturation(facts, th).first("queueing")
    if queueing is not None and queueing.severity != "ok":
        facts = await fetch.fetch_queueing(rec, inp, facts, th)
    return saturation.words(facts, saturation.grade_saturation(facts, th), th, window=inp.window)


async def _traffic(rec: Recorder, inp: CheckInput, th: TrafficThresholds) -> Verdict:
    facts = await fetch.fetch_traffic(rec, inp, th)
    return traffic.words(facts, traffic.grade_traffic(facts, th), th, window=inp.window)


CHECKS: dict[str, Check] = {"latency": _latency, "errors": _errors, "saturation": _saturation, "traffic": _traffic}


class RulesEngine:
    kind: EngineKind = "rules"
    specialist_model: str | None = None
    synthesis_model: str | None = None

    async def investigate(
        self, spec: SpecialistSpec, tools: Sequence[Tool], context: AnalysisContext
    ) -> tuple[Finding, Usage]:
        started = time.perf_counter()
        recorder = Recorder(tools)
        try:
            thresholds = parse_thresholds(THRESHOLDS[spec.name], spec.thresholds)
            verdict = await CHECKS[spec.name](recorder, CheckInput.of(context), thresholds)
        except LookupError as exc:
            finding = Finding(
                specialist=spec.name,
                severity="unknown",
                status="failed",
                summary=f"The {spec.name} signals could not be read.",
                evidence=recorder.evidence,
                error=str(exc),
            )
        else:
            finding = Finding(
                specialist=spec.name,
                severity=verdict.severity,  # type: ignore[arg-type]
                summary=verdict.summary,
                details=verdict.details,
                signals={k: float(v) for k, v in verdict.signals.items()},
                evidence=recorder.evidence,
            )
        finding.duration_ms = round((time.perf_counter() - started) * 1000, 1)
        return finding, Usage(tool_calls=recorder.calls)

    async def synthesize(
        self, findings: Sequence[Finding], context: AnalysisContext, tools: Sequence[Tool]
    ) -> tuple[Synthesis, Usage]:
        return synthesize(findings, context), Usage()

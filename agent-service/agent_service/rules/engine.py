"""The offline rules engine: the Engine protocol over the same tools, deterministic from the
thresholds. No network but ingestion (through the tools)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from agent_service.engine import AnalysisContext, SpecialistSpec, Synthesis, Usage
from agent_service.models import EngineKind, Finding
from agent_service.rules import errors, latency, saturation, traffic
from agent_service.rules.recorder import Recorder
from agent_service.rules.synthesis import synthesize
from agent_service.rules.verdict import CheckInput, Verdict
from agent_service.specialists.specs import THRESHOLDS, parse_thresholds
from agent_service.tools.base import Tool

Check = Callable[[Recorder, CheckInput, Any], Awaitable[Verdict]]

CHECKS: dict[str, Check] = {
    "latency": latency.check,
    "errors": errors.check,
    "saturation": saturation.check,
    "traffic": traffic.check,
}


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

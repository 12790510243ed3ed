"""The offline rules engine: the Engine protocol over the same tools, deterministic from the
thresholds. Each specialist reads one breakdown of every scope (shared between the four by the
tools: one query) → the catalogue of failure modes judges it (agent_service/diagnosis, pure) →
words. The synthesis tells the diagnosis of all four. No network but ingestion (and the change
events the latency and errors specialists read with `get_changes`)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from agent_service.diagnosis.case import Case, Limits
from agent_service.diagnosis.changes import changes_from
from agent_service.diagnosis.data import Breakdown, Span
from agent_service.diagnosis.diagnose import diagnose
from agent_service.diagnosis.story import tell
from agent_service.diagnosis.words import verdict
from agent_service.engine import AnalysisContext, SpecialistSpec, Synthesis, Usage
from agent_service.events.tool import LOOKBACK as CHANGES_LOOKBACK
from agent_service.events.tool import NAME as GET_CHANGES
from agent_service.models import SPECIALISTS, EngineKind, Evidence, Finding, Scope, SpecialistName
from agent_service.remediation.propose import propose
from agent_service.rules.prometheus import ask_prometheus
from agent_service.rules.recorder import Recorder
from agent_service.rules.synthesis import synthesize as findings_synthesis
from agent_service.rules.references import fetch_references
from agent_service.rules.verdict import CheckInput
from agent_service.settings import Settings
from agent_service.specialists.specs import THRESHOLDS, parse_thresholds, thresholds
from agent_service.tools import registry as tool
from agent_service.tools.base import Tool

BASELINE = "60m"  # the span before the window (or before the alert's onset) a scope is compared with
_KEEP = 32  # analyses whose facts wait for their synthesis


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def limits_from(settings: Settings) -> Limits:
    return Limits(**{name: thresholds(settings, name) for name in SPECIALISTS})  # type: ignore[arg-type]


def baseline_note(inp: CheckInput, data: Breakdown) -> str:
    """Which baseline, and how much of it the data covers: logs that began inside it make a
    shorter one ("the 18 minutes of logs before the window"), said as such."""
    start, end = data.baseline.start, data.baseline.end
    first = data.logs_began()
    began = data.site.before_minutes.start if data.site is not None else None
    covered = first is not None and first > 1 and began is not None
    if covered:
        start = began + timedelta(minutes=first)  # type: ignore[operator]
    span = f"{start:%H:%M}–{end:%H:%M} UTC"
    before = "the alert's onset" if inp.baseline_end is not None and inp.baseline_end < inp.start else "the window"
    if covered:
        minutes = max(1, round((end - start).total_seconds() / 60))
        return f"each scope against itself over {span}, the {minutes} minutes of logs before {before} (the logs begin there)"
    return f"each scope against itself over {span}, the hour before {before}"


async def fetch_case(rec: Recorder, inp: CheckInput, limits: Limits, *, redis: bool, scope: Scope,
                     changes: bool = False) -> Case:
    """The breakdown (and, for saturation, Redis' own memory; for the specialists that can call a
    regression, the change events of the window and the hour before) as one Case."""
    baseline_end = inp.baseline_end if inp.baseline_end is not None and inp.baseline_end < inp.start else inp.start
    calls: list[tuple[str, dict[str, Any]]] = [
        (tool.BREAKDOWN, {"window": inp.window, "baseline": BASELINE, "baseline_end": _iso(baseline_end)})]
    if redis:
        calls.append((tool.SATURATION, {"window": inp.window}))
    changes = changes and rec.has(GET_CHANGES)
    if changes:
        calls.append((GET_CHANGES, {"since": _iso(inp.start - CHANGES_LOOKBACK), "until": _iso(inp.end)}))
    answers = await rec.call_many(calls)
    if answers[0] is None:
        raise LookupError("; ".join(rec.errors) or "no breakdown")
    asked = Span(inp.start, inp.end)
    minutes = int(BASELINE[:-1])
    data = Breakdown.of(answers[0], window=asked, baseline=Span(baseline_end - timedelta(minutes=minutes), baseline_end))
    data = data.scoped(scope.backend, scope.frontend)
    sat = answers[1] if redis and len(answers) > 1 else None
    read = answers[-1] if changes else None
    case = Case(data=data, limits=limits, redis=dict((sat or {}).get("redis") or {}),
                changes=changes_from(read) if read is not None else None)
    return replace(case, baseline_note=baseline_note(inp, data))


DERIVED = "derived"  # the evidence entry holding the numbers a finding computed from the breakdown


def _trim(evidence: list[Evidence], names: set[str], signals: Mapping[str, float]) -> list[Evidence]:
    """The breakdown as evidence of one finding: the site, the scopes it names and their servers
    (the rest of the answer is in the findings that name them), then what it computed from them."""
    out = []
    for item in evidence:
        if item.tool == tool.BREAKDOWN and isinstance(item.result, Mapping) and "scopes" in item.result:
            scopes = [s for s in item.result.get("scopes") or [] if isinstance(s, Mapping) and (
                s.get("kind") == "site" or s.get("name") in names or s.get("backend") in names)]
            item = Evidence(tool=item.tool, arguments=item.arguments, result={**item.result, "scopes": scopes})
        out.append(item)
    if signals:
        out.append(Evidence(tool=DERIVED, arguments={"from": tool.BREAKDOWN}, result=dict(signals)))
    return out


class RulesEngine:
    kind: EngineKind = "rules"
    specialist_model: str | None = None
    synthesis_model: str | None = None

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or limits_from(Settings.model_construct())  # the defaults
        self._cases: OrderedDict[int, tuple[AnalysisContext, Case]] = OrderedDict()

    def _limits_for(self, spec: SpecialistSpec) -> Limits:
        own = parse_thresholds(THRESHOLDS[spec.name], spec.thresholds)
        return replace(self.limits, **{spec.name: own})

    def _remember(self, context: AnalysisContext, case: Case, name: SpecialistName) -> None:
        key = id(context)
        known = self._cases.get(key)
        if known is None or known[0] is not context:
            self._cases[key] = (context, case)
        else:
            prev = known[1]
            limits = replace(prev.limits, **{name: getattr(case.limits, name)})
            self._cases[key] = (context, replace(prev, limits=limits, redis=case.redis or prev.redis,
                                                 changes=case.changes if case.changes is not None else prev.changes,
                                                 prometheus=case.prometheus or prev.prometheus))
        while len(self._cases) > _KEEP:
            self._cases.popitem(last=False)

    async def investigate(
        self, spec: SpecialistSpec, tools: Sequence[Tool], context: AnalysisContext
    ) -> tuple[Finding, Usage]:
        started = time.perf_counter()
        recorder = Recorder(tools)
        try:
            case = await fetch_case(recorder, CheckInput.of(context), self._limits_for(spec),
                                    redis=spec.name == "saturation", scope=context.scope,
                                    changes=spec.name in ("latency", "errors"))
        except LookupError as exc:
            finding = Finding(specialist=spec.name, severity="unknown", status="failed",
                              summary=f"The {spec.name} signals could not be read.",
                              evidence=recorder.evidence, error=str(exc))
        else:
            diagnosis = diagnose(case, (spec.name,))
            if spec.name == "errors":  # once per analysis: what Prometheus says, when it is configured
                case = replace(case, prometheus=await ask_prometheus(recorder, diagnosis, at=context.window.end))
            self._remember(context, case, spec.name)
            said = verdict(diagnosis, spec.name)
            names = {h.scope.name for h in diagnosis.hypotheses} | {h.where for h in diagnosis.hypotheses}
            signals = {k: float(v) for k, v in said.signals.items()}
            finding = Finding(
                specialist=spec.name, severity=said.severity,  # type: ignore[arg-type]
                summary=said.summary, details=said.details, signals=signals,
                evidence=_trim(recorder.evidence, {n for n in names if n}, signals),
            )
        finding.duration_ms = round((time.perf_counter() - started) * 1000, 1)
        return finding, Usage(tool_calls=recorder.calls)

    async def synthesize(
        self, findings: Sequence[Finding], context: AnalysisContext, tools: Sequence[Tool]
    ) -> tuple[Synthesis, Usage]:
        known = self._cases.pop(id(context), None)
        if known is None or known[0] is not context:  # facts unread: tell the findings
            return findings_synthesis(findings, context), Usage()
        done = tuple(f.specialist for f in findings if f.status == "completed")
        diagnosis = diagnose(known[1], done)
        references = await fetch_references(diagnosis, context, tools)
        if references:
            diagnosis = replace(diagnosis, case=replace(diagnosis.case, references=references))
        told = tell(diagnosis, findings, context)
        return told.model_copy(update={"proposals": propose(diagnosis)}), Usage()

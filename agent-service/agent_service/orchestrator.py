"""The orchestrator: four specialists concurrently, each under its deadline, then the synthesis.

One specialist failing, timing out or raising never sinks the others; a failed synthesis falls
back to the deterministic one and the report says so; ingestion being down still yields a report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from agent_service import progress as steps
from agent_service.engine import AnalysisContext, Engine, SpecialistSpec, Synthesis, Usage
from agent_service.grounding import ungrounded
from agent_service.ingestion_client import IngestionClient
from agent_service.metrics import AgentMetrics
from agent_service.models import (
    SEVERITY_RANK,
    AnalyzeRequest,
    Finding,
    IncidentReport,
    Scope,
    Severity,
    SimilarIncident,
)
from agent_service.progress import Progress, ProgressEvent
from agent_service.remediation.models import AnyProposal
from agent_service.remediation.tool import ProposalCollector
from agent_service.remediation.validate import known_names, validate_proposals
from agent_service.rules.synthesis import synthesize as deterministic_synthesis
from agent_service.settings import Settings
from agent_service.specialists import specialist_specs, tools_for
from agent_service.tools.base import Tool, bind_tools
from agent_service.tools.ingestion import Defaults, SourceTracker
from agent_service.tools.metered import MeteredTool
from agent_service.tools.registry import build_tools
from agent_service.window import report_window

log = logging.getLogger(__name__)

SimilarHook = Callable[[IncidentReport], Awaitable[list[SimilarIncident]]]
ReportSaver = Callable[[IncidentReport], Awaitable[None]]


class Busy(Exception):
    """The concurrency limit on analyses is reached."""


class Limiter:
    """At most `limit` analyses at once: `try_slot()` refuses past it, `slot()` waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._semaphore = asyncio.Semaphore(limit)

    def try_slot(self) -> Slot:
        if self._semaphore.locked():
            raise Busy(f"{self.limit} analyses already running")
        return Slot(self)

    def slot(self) -> Slot:
        return Slot(self)

    @contextlib.asynccontextmanager
    async def waiting(self, timeout_s: float) -> AsyncIterator[bool]:
        """Wait at most `timeout_s` for a slot. Yields True holding one, or False when the wait ran
        out: the caller then runs over the limit rather than dropping work it already accepted."""
        try:
            await asyncio.wait_for(self._semaphore.acquire(), timeout_s)
        except TimeoutError:
            acquired = False
        else:
            acquired = True
        if not acquired:
            yield False
            return
        self.active += 1
        try:
            yield True
        finally:
            self.active -= 1
            self._semaphore.release()


class Slot:
    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter

    async def __aenter__(self) -> None:
        await self.limiter._semaphore.acquire()
        self.limiter.active += 1

    async def __aexit__(self, *exc: object) -> None:
        self.limiter.active -= 1
        self.limiter._semaphore.release()


class Analysis(Protocol):
    """What the rest of the service needs of an analyzer: one analysis, and the MAX_ANALYSES slots
    that POST /analyze, incident analyses and model-written handoffs share."""

    limiter: Limiter

    async def analyze(self, request: AnalyzeRequest, *, progress: Progress | None = None) -> IncidentReport: ...


def worst_known(findings: Sequence[Finding]) -> Severity | None:
    known = [f.severity for f in findings if f.severity != "unknown"]
    if not known:
        return None
    return max(known, key=lambda s: SEVERITY_RANK[s])  # type: ignore[return-value]


def proposals_of(synthesis: Synthesis, tools: Sequence[Tool], findings: Sequence[Finding], *,
                 runtime: bool) -> list[AnyProposal]:
    """The engine's proposals and those a model made through propose_remediation, validated alike."""
    made: list[AnyProposal] = list(synthesis.proposals)
    for tool in tools:
        if isinstance(tool, ProposalCollector):
            made += tool.collected
    return validate_proposals(made, known_names(findings), runtime=runtime) if made else []


async def tell(progress: Progress | None, event: ProgressEvent) -> None:
    """Report a step to whoever asked; their trouble never sinks the analysis."""
    if progress is None:
        return
    try:
        await progress(event)
    except Exception as exc:  # noqa: BLE001 - progress is a courtesy, the report is the work
        log.warning("progress hook failed on %s %s: %s", event.step, event.state, exc)


class Analyzer:
    def __init__(
        self,
        *,
        engine: Engine,
        ingestion: IngestionClient,
        settings: Settings,
        metrics: AgentMetrics | None = None,
        extra_tools: Sequence[Tool] = (),
        similar_incidents: SimilarHook | None = None,
        save_report: ReportSaver | None = None,
        meter_tools: bool = True,
        remediation_runtime: bool = False,
    ) -> None:
        self.engine = engine
        self.ingestion = ingestion
        self.settings = settings
        self.metrics = metrics
        self.extra_tools = tuple(extra_tools)
        self.similar_incidents = similar_incidents
        self.save_report = save_report
        # The Claude engine counts its own tool calls; the orchestrator counts them for the others.
        self.meter_tools = meter_tools
        # A Runtime API socket is configured (HAPROXY_RUNTIME_SOCKETS): runtime proposals are executable.
        self.remediation_runtime = remediation_runtime
        self.specs = specialist_specs(settings)
        self.limiter = Limiter(settings.max_analyses)

    async def analyze(self, request: AnalyzeRequest, *, progress: Progress | None = None) -> IncidentReport:
        """One analysis. `progress`, when given, hears each specialist start and finish (done with
        its verdict, or failed), then the synthesis: the same for every engine."""
        started = time.perf_counter()
        if self.metrics:
            self.metrics.in_progress.inc()
        try:
            report = await self._analyze(request, started, progress)
        except Exception:
            if self.metrics:
                self.metrics.analyses.labels(self.engine.kind, "error", "unknown").inc()
            raise
        finally:
            if self.metrics:
                self.metrics.in_progress.dec()
                self.metrics.duration.labels(self.engine.kind).observe(time.perf_counter() - started)
        if self.metrics:
            degraded = (
                any(f.status != "completed" for f in report.findings)
                or report.synthesis_error is not None
                or any(state != "ok" for state in report.sources.values())
            )
            self.metrics.analyses.labels(
                self.engine.kind, "degraded" if degraded else "ok", report.overall_severity
            ).inc()
        return report

    async def _analyze(self, request: AnalyzeRequest, started: float, progress: Progress | None) -> IncidentReport:
        window = report_window(request.window, request.end)
        scope = Scope(backend=request.backend, frontend=request.frontend)
        context = AnalysisContext(window=window, scope=scope, question=request.question,
                                  baseline_end=request.baseline_end, alerts=tuple(request.alerts))
        tracker = SourceTracker()
        defaults = Defaults(window=request.window, end=window.end, backend=scope.backend, frontend=scope.frontend)
        tools = build_tools(self.ingestion, defaults, tracker, max_chars=self.settings.tool_result_max_chars)

        extra = bind_tools(self.extra_tools, window, scope)  # e.g. get_changes: this window's defaults
        runs = [self._run_specialist(spec, tools, context, extra, progress) for spec in self.specs.values()]
        results = await asyncio.gather(*runs)
        findings = [finding for finding, _ in results]
        usage = Usage()
        for _, used in results:
            usage.add(used)

        await tell(progress, steps.started("synthesis"))
        synthesis, used, source, error = await self._synthesize(findings, context, extra)
        usage.add(used)
        overall = worst_known(findings)
        if overall is None:  # nothing could be read: never claim "ok"
            overall = "warning"
        await tell(progress, steps.synthesis_finished(overall, fallback_reason=error))
        thresholds = [v for spec in self.specs.values() for v in spec.thresholds.values()]
        claims = ungrounded(findings, synthesis.diagnosis, extra=[*thresholds, window.seconds / 60])
        if claims and self.metrics:
            self.metrics.ungrounded.inc(len(claims))
        report = IncidentReport(
            id=uuid.uuid4().hex,
            created_at=datetime.now(UTC),
            window=window,
            scope=scope,
            overall_severity=overall,
            title=synthesis.title,
            diagnosis=synthesis.diagnosis,
            recommendations=synthesis.recommendations,
            findings=findings,
            engine=usage.to_engine(
                self.engine.kind,
                specialist_model=self.engine.specialist_model,
                synthesis_model=self.engine.synthesis_model,
            ),
            sources={"ingestion": tracker.state},  # type: ignore[dict-item]
            synthesis=source,
            synthesis_error=error,
            ungrounded_claims=claims,
            question=request.question,
            proposals=proposals_of(synthesis, extra, findings, runtime=self.remediation_runtime),
        )
        if tracker.state == "ok" and not tracker.ok:
            # No tool ran at all (e.g. every specialist failed before calling one): ask directly.
            report.sources["ingestion"] = "ok" if await self.ingestion.health() else "unreachable"
        if self.similar_incidents is not None:
            try:
                report.similar_incidents = await asyncio.wait_for(self.similar_incidents(report), timeout=5.0)
                report.sources["incidents"] = "ok"
            except Exception as exc:  # noqa: BLE001 - a helper lookup must not sink the report
                log.warning("similar incidents lookup failed: %s", exc)
                report.sources["incidents"] = "unreachable"
        report.duration_ms = round((time.perf_counter() - started) * 1000, 1)
        if self.save_report is not None:
            report.sources["redis"] = "ok"  # the stored copy says so too
            try:
                await self.save_report(report)
            except Exception as exc:  # noqa: BLE001 - the report is still worth returning
                log.warning("could not store report %s: %s", report.id, exc)
                report.sources["redis"] = "unreachable"
        return report

    async def _run_specialist(
        self, spec: SpecialistSpec, tools: dict[str, Tool], context: AnalysisContext, extra: Sequence[Tool],
        progress: Progress | None = None,
    ) -> tuple[Finding, Usage]:
        metered = [
            MeteredTool(tool, specialist=spec.name, metrics=self.metrics if self.meter_tools else None)
            for tool in tools_for(spec, tools, extra)
        ]
        deadline = self.settings.specialist_deadline_s
        await tell(progress, steps.started(spec.name))
        started = time.perf_counter()
        try:
            finding, usage = await asyncio.wait_for(self.engine.investigate(spec, metered, context), deadline)
        except TimeoutError:
            finding, usage = Finding(
                specialist=spec.name,
                status="timed_out",
                error=f"no answer within the {deadline:g} s deadline",
            ), Usage()
        except Exception as exc:  # noqa: BLE001 - one specialist never sinks the others
            log.exception("specialist %s raised", spec.name)
            finding, usage = Finding(
                specialist=spec.name, status="failed", error=f"{type(exc).__name__}: {exc}"[:500]
            ), Usage()
        if finding.specialist != spec.name:
            finding = finding.model_copy(update={"specialist": spec.name})
        if finding.status != "completed":
            finding = finding.model_copy(update={"severity": "unknown"})
            if not finding.summary:
                finding.summary = f"The {spec.name} specialist did not finish ({finding.status})."
        if not finding.duration_ms:
            finding.duration_ms = round((time.perf_counter() - started) * 1000, 1)
        if self.metrics:
            self.metrics.specialist_runs.labels(spec.name, finding.status).inc()
        await tell(progress, steps.specialist_finished(spec.name, finding))
        return finding, usage

    async def _synthesize(
        self, findings: list[Finding], context: AnalysisContext, extra: Sequence[Tool]
    ) -> tuple[Synthesis, Usage, str, str | None]:
        fallback_usage = Usage()
        try:
            synthesis, usage = await asyncio.wait_for(
                self.engine.synthesize(findings, context, list(extra)),
                self.settings.synthesis_deadline_s,
            )
        except TimeoutError:
            error = f"synthesis gave no answer within {self.settings.synthesis_deadline_s:g} s"
        except Exception as exc:  # noqa: BLE001 - fall back to the deterministic synthesis
            log.warning("synthesis failed: %s", exc)
            error = str(exc)[:500] or type(exc).__name__
            spent = getattr(exc, "usage", None)
            if isinstance(spent, Usage):
                fallback_usage = spent
        else:
            return synthesis, usage, ("deterministic" if self.engine.kind == "rules" else "llm"), None
        return deterministic_synthesis(findings, context), fallback_usage, "deterministic", error

"""What every model engine does the same way, over its own `Chat`: one specialist's bounded
loop turned into a Finding, and the synthesis.

investigate() never raises for model or tool trouble: it returns a failed Finding with the
reason. synthesize() raises SynthesisFailed (carrying the usage spent) so that the orchestrator
falls back to its deterministic synthesis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agent_service.engine import AnalysisContext, SpecialistSpec, Synthesis, Usage
from agent_service.llm.client import LlmConfig
from agent_service.llm.content import question_text
from agent_service.llm.finding_tool import REPORT_FINDING, REPORT_SYNTHESIS
from agent_service.llm.loop import LoopOutcome, run_specialist_loop
from agent_service.llm.metrics import LlmMetrics, LlmRole
from agent_service.llm.synthesis_call import INTRO as SYNTHESIS_INTRO
from agent_service.llm.synthesis_call import findings_seed, run_synthesis
from agent_service.llm.tool_runner import ToolRunner
from agent_service.llm.turns import Chat, Seed, tool_definition
from agent_service.models import EngineKind, Finding
from agent_service.prompts import format_thresholds, render
from agent_service.tools.base import Tool, ToolResult

log = logging.getLogger(__name__)

CONTEXT_TOOL = "analysis_context"
RESERVED = {CONTEXT_TOOL, REPORT_FINDING, REPORT_SYNTHESIS}


class SynthesisFailed(Exception):
    def __init__(self, reason: str, usage: Usage) -> None:
        super().__init__(reason)
        self.usage = usage


class ContextTool:
    """The analysis window and scope, handed to the model as a tool result (scope names may come
    from alert labels, so they never enter a prompt)."""

    name = CONTEXT_TOOL
    description = "The window and scope (backend, frontend) of this analysis."
    input_schema: dict[str, Any] = {"type": "object", "properties": {}}

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        return ToolResult.ok(self.payload)


def context_payload(context: AnalysisContext, specialist: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "window": context.window.model_dump(mode="json"),
        "scope": context.scope.model_dump(mode="json"),
    }
    if specialist:
        payload["specialist"] = specialist
    if context.alerts:  # the incident's alerts (untrusted): for search_runbooks' alert and runbook_url
        payload["alerts"] = [a.model_dump(mode="json") for a in context.alerts]
    return payload


class Chats(Protocol):
    def open(self, *, role: LlmRole, model: str, usage: Usage, system: str, intro: str, seed: Seed) -> Chat: ...


@dataclass(frozen=True)
class ApiErrors:
    """How one SDK's errors read in a finding's `error`."""

    api: str  # "the Anthropic API"
    timeout: type[Exception]
    connection: type[Exception]
    status: type[Exception]

    def expected(self) -> tuple[type[Exception], ...]:
        return (self.connection, self.status)

    def reason(self, exc: Exception, config: LlmConfig) -> str:
        if isinstance(exc, self.timeout):
            return f"a call to {self.api} timed out (timeout {config.timeout_s:g} s, {config.max_retries} retries)"
        if isinstance(exc, self.connection):
            return f"cannot reach {self.api} after {config.max_retries} retries: {exc}"
        if isinstance(exc, self.status):
            code = getattr(exc, "status_code", "?")
            return f"{self.api} answered {code} after {config.max_retries} retries: {str(exc)[:300]}"
        return f"unexpected error in the model loop: {type(exc).__name__}: {str(exc)[:300]}"


class LoopEngine:
    """The Engine protocol over a `Chats` factory; subclasses give the kind, chats and errors."""

    kind: EngineKind

    def __init__(self, config: LlmConfig, *, chats: Chats, errors: ApiErrors, metrics: LlmMetrics | None) -> None:
        self.config = config
        self.chats = chats
        self.errors = errors
        self.metrics = metrics
        self.specialist_model: str | None = config.specialist_model
        self.synthesis_model: str | None = config.synthesis_model

    async def run_loop(
        self, chat: Chat, runner: ToolRunner, spec: SpecialistSpec, tools: Sequence[Tool]
    ) -> LoopOutcome:
        return await run_specialist_loop(
            chat, runner, tool_definitions=[tool_definition(t) for t in tools], max_steps=self.config.max_steps
        )

    async def investigate(
        self, spec: SpecialistSpec, tools: Sequence[Tool], context: AnalysisContext
    ) -> tuple[Finding, Usage]:
        started = time.perf_counter()
        usage = Usage()
        # the orchestrator picks the specialist's tools; names the loop reserves are dropped
        usable = [t for t in tools if t.name not in RESERVED]
        context_tool = ContextTool(context_payload(context, spec.name))
        runner = ToolRunner(
            [context_tool, *usable],
            specialist=spec.name,
            timeout_s=self.config.tool_timeout_s,
            max_chars=self.config.tool_result_max_chars,
            metrics=self.metrics,
        )
        runner.mark_called(CONTEXT_TOOL, {})
        try:
            system = render(
                spec.prompt,
                specialist=spec.name,
                thresholds=format_thresholds(spec.thresholds),
                max_steps=self.config.max_steps,
            )
            intro = f"Examine the {spec.name} signal for the window and scope given by `{CONTEXT_TOOL}`."
            chat = self.chats.open(
                role="specialist",
                model=self.config.specialist_model,
                usage=usage,
                system=system,
                intro=intro + question_text(context.question),
                seed=Seed(CONTEXT_TOOL, context_tool.payload),
            )
            outcome = await self.run_loop(chat, runner, spec, [context_tool, *usable])
            error, written = outcome.error, outcome.finding
        except Exception as exc:  # API errors after the SDK's retries, or a bug: a failed finding
            if not isinstance(exc, self.errors.expected()):
                log.exception("specialist %s: unexpected error", spec.name)
            error, written = self.errors.reason(exc, self.config), None
        usage.add(runner.usage)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        if written is None:
            log.warning("specialist %s failed after %.0f ms: %s", spec.name, duration_ms, error)
            finding = Finding(
                specialist=spec.name,
                severity="unknown",
                status="failed",
                evidence=runner.evidence,
                duration_ms=duration_ms,
                error=error,
            )
        else:
            finding = Finding(
                specialist=spec.name,
                severity=written.severity,
                status="completed",
                summary=written.summary,
                details=written.details,
                signals=written.signals,
                evidence=runner.evidence,
                duration_ms=duration_ms,
            )
        return finding, usage

    async def synthesize(
        self, findings: Sequence[Finding], context: AnalysisContext, tools: Sequence[Tool]
    ) -> tuple[Synthesis, Usage]:
        usage = Usage()
        try:
            chat = self.chats.open(
                role="synthesis",
                model=self.config.synthesis_model,
                usage=usage,
                system=render("synthesis"),
                intro=SYNTHESIS_INTRO + question_text(context.question),
                seed=findings_seed(findings, context_payload(context)),
            )
            result = await run_synthesis(chat)
        except Exception as exc:
            raise SynthesisFailed(self.errors.reason(exc, self.config), usage) from exc
        if isinstance(result, str):
            raise SynthesisFailed(result, usage)
        return result, usage

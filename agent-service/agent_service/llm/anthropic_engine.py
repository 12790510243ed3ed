"""AnthropicEngine: the Engine protocol over the Messages API (real anthropic SDK).

investigate() never raises for model or tool trouble: it returns a failed Finding with the
reason. synthesize() raises SynthesisFailed (carrying the usage spent) so that the orchestrator
falls back to its deterministic synthesis.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

from anthropic import APIConnectionError, APIStatusError, APITimeoutError, AsyncAnthropic

from agent_service.engine import AnalysisContext, SpecialistSpec, Synthesis, Usage
from agent_service.llm.calls import LlmCaller
from agent_service.llm.client import LlmConfig, build_client
from agent_service.llm.finding_tool import REPORT_FINDING, REPORT_SYNTHESIS
from agent_service.llm.loop import run_specialist_loop
from agent_service.llm.messages import question_text, seeded_messages, text_of, tool_definition
from agent_service.llm.metrics import LlmMetrics
from agent_service.llm.synthesis_call import run_synthesis
from agent_service.llm.tool_runner import ToolRunner
from agent_service.models import EngineKind, Finding
from agent_service.prompts import format_thresholds, render
from agent_service.tools.base import Tool, ToolResult

log = logging.getLogger(__name__)

CONTEXT_TOOL = "analysis_context"
MATERIAL_TOOL = "material"
RESERVED = {CONTEXT_TOOL, REPORT_FINDING, REPORT_SYNTHESIS}


class SynthesisFailed(Exception):
    def __init__(self, reason: str, usage: Usage) -> None:
        super().__init__(reason)
        self.usage = usage


class _ContextTool:
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
    return payload


def api_error_reason(exc: Exception, config: LlmConfig) -> str:
    if isinstance(exc, APITimeoutError):
        return f"Anthropic API call timed out (timeout {config.timeout_s:g} s, {config.max_retries} retries)"
    if isinstance(exc, APIConnectionError):
        return f"cannot reach the Anthropic API after {config.max_retries} retries: {exc}"
    if isinstance(exc, APIStatusError):
        return f"Anthropic API error {exc.status_code} after {config.max_retries} retries: {str(exc)[:300]}"
    return f"unexpected error in the Claude loop: {type(exc).__name__}: {str(exc)[:300]}"


class AnthropicEngine:
    kind: EngineKind = "anthropic"

    def __init__(
        self, config: LlmConfig, *, client: AsyncAnthropic | None = None, metrics: LlmMetrics | None = None
    ) -> None:
        self.config = config
        self.client = client or build_client(config)
        self.metrics = metrics
        self.caller = LlmCaller(self.client, config.price_table(), metrics)
        self.specialist_model: str | None = config.specialist_model
        self.synthesis_model: str | None = config.synthesis_model

    async def aclose(self) -> None:
        await self.client.close()

    async def investigate(
        self, spec: SpecialistSpec, tools: Sequence[Tool], context: AnalysisContext
    ) -> tuple[Finding, Usage]:
        started = time.perf_counter()
        usage = Usage()
        # the orchestrator picks the specialist's tools; names the loop reserves are dropped
        usable = [t for t in tools if t.name not in RESERVED]
        context_tool = _ContextTool(context_payload(context, spec.name))
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
            messages = seeded_messages(
                intro + question_text(context.question),
                tool_name=CONTEXT_TOOL,
                tool_use_id=f"toolu_ctx_{uuid.uuid4().hex[:16]}",
                payload=context_tool.payload,
            )
            outcome = await run_specialist_loop(
                self.caller,
                runner,
                model=self.config.specialist_model,
                system=system,
                tool_definitions=[tool_definition(t) for t in [context_tool, *usable]],
                messages=messages,
                max_steps=self.config.max_steps,
                max_tokens=self.config.max_tokens,
                usage=usage,
            )
            error = outcome.error
            written = outcome.finding
        except Exception as exc:  # API errors after the SDK's retries, or a bug: a failed finding
            if not isinstance(exc, (APIStatusError, APIConnectionError)):
                log.exception("specialist %s: unexpected error", spec.name)
            error, written = api_error_reason(exc, self.config), None
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
            result = await run_synthesis(
                self.caller,
                model=self.config.synthesis_model,
                system=render("synthesis"),
                findings=findings,
                context=context_payload(context),
                question=context.question,
                max_tokens=self.config.max_tokens,
                usage=usage,
            )
        except SynthesisFailed:
            raise
        except Exception as exc:
            raise SynthesisFailed(api_error_reason(exc, self.config), usage) from exc
        if isinstance(result, str):
            raise SynthesisFailed(result, usage)
        return result, usage

    async def write(
        self, template: str, material: dict[str, Any], *, model: str | None = None, **values: Any
    ) -> tuple[str, Usage]:
        """Free text (e.g. an incident handoff). The template holds only our text; `material`
        (untrusted: incident data) travels only inside a tool_result block. Raises on API errors."""
        usage = Usage()
        definition = {
            "name": MATERIAL_TOOL,
            "description": "The material to write about.",
            "input_schema": {"type": "object", "properties": {}},
        }
        messages = seeded_messages(
            f"Write the text now, from the material in the `{MATERIAL_TOOL}` tool result.",
            tool_name=MATERIAL_TOOL,
            tool_use_id=f"toolu_mat_{uuid.uuid4().hex[:16]}",
            payload=material,
        )
        response = await self.caller.create(
            role="handoff",
            model=model or self.config.synthesis_model,
            usage=usage,
            max_tokens=self.config.max_tokens,
            system=[{"type": "text", "text": render(template, **values), "cache_control": {"type": "ephemeral"}}],
            tools=[{**definition, "cache_control": {"type": "ephemeral"}}],
            tool_choice={"type": "none"},
            messages=messages,
        )
        return text_of(response.content), usage

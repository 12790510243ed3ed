"""Prometheus metrics of the model engines (Claude, OpenAI-compatible; names from docs/metrics.md),
on the app's registry."""

from __future__ import annotations

from typing import Literal

from prometheus_client import CollectorRegistry, Counter

LlmRole = Literal["specialist", "synthesis", "handoff"]


class LlmMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "oncall_llm_calls_total", "Model API calls (Messages API or chat completions)", ["model", "role", "outcome"], registry=registry
        )
        self.tokens = Counter(
            "oncall_llm_tokens_total", "Tokens the model API reported", ["model", "kind"], registry=registry
        )
        self.cost = Counter("oncall_llm_cost_usd_total", "Estimated USD spent on LLM calls", ["model"], registry=registry)
        self.tool_calls = Counter(
            "oncall_tool_calls_total", "Tool calls run for a specialist", ["specialist", "tool", "status"], registry=registry
        )

    def call(
        self,
        *,
        model: str,
        role: LlmRole,
        outcome: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read: int = 0,
        cache_creation: int = 0,
        cost_usd: float = 0.0,
    ) -> None:
        self.calls.labels(model=model, role=role, outcome=outcome).inc()
        for kind, count in (
            ("input", input_tokens),
            ("output", output_tokens),
            ("cache_read", cache_read),
            ("cache_creation", cache_creation),
        ):
            if count:
                self.tokens.labels(model=model, kind=kind).inc(count)
        if cost_usd:
            self.cost.labels(model=model).inc(cost_usd)

    def tool_call(self, *, specialist: str, tool: str, status: str) -> None:
        self.tool_calls.labels(specialist=specialist, tool=tool, status=status).inc()

"""The agent's own Prometheus metrics (docs/metrics.md, agent section), on the app's registry.
The LLM metrics (oncall_llm_*) belong to agent_service.llm."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class AgentMetrics:
    def __init__(self, registry: CollectorRegistry, *, tool_calls: Counter | None = None) -> None:
        self.analyses = Counter(
            "oncall_analyses_total", "Analyses run", ["engine", "outcome", "severity"], registry=registry
        )
        self.duration = Histogram(
            "oncall_analysis_duration_seconds",
            "Wall time of one analysis",
            ["engine"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120),
            registry=registry,
        )
        self.in_progress = Gauge("oncall_analyses_in_progress", "Analyses running now", registry=registry)
        self.specialist_runs = Counter(
            "oncall_specialist_runs_total", "Specialist runs", ["specialist", "status"], registry=registry
        )
        # The Claude engine's LlmMetrics registers the same family; share it rather than clash.
        self.tool_calls = tool_calls or Counter(
            "oncall_tool_calls_total", "Tool calls", ["specialist", "tool", "status"], registry=registry
        )
        self.ungrounded = Counter(
            "oncall_ungrounded_claims_total", "Numbers stated without supporting evidence", registry=registry
        )

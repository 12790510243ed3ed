"""Memory of past incidents: RESOLVED incidents with a root cause or a resolution, searchable by
words. Exposed to the analysis as the `search_past_incidents` tool (Claude loops, rules engine)
and as the `similar_incidents` hook that fills IncidentReport.similar_incidents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent_service.incidents.search import memory_text, similarity, tokens
from agent_service.incidents.store import IncidentStore
from agent_service.models import IncidentReport, SimilarIncident
from agent_service.tools.base import ToolResult

MAX_SCAN = 500
MIN_SCORE = 0.05


class IncidentMemory:
    """`store` is a callable so the memory can be built before Redis is opened in the lifespan."""

    def __init__(self, store: Callable[[], IncidentStore], *, scan: int = MAX_SCAN) -> None:
        self._store = store
        self.scan = scan

    async def search(self, query: str, *, limit: int = 3, exclude: int | None = None) -> list[SimilarIncident]:
        wanted = tokens(query)
        if not wanted:
            return []
        scored: list[SimilarIncident] = []
        for incident in await self._store().resolved(self.scan):
            if incident.id == exclude or not (incident.root_cause or incident.resolution):
                continue
            score = similarity(wanted, tokens(memory_text(incident)))
            if score < MIN_SCORE:
                continue
            scored.append(
                SimilarIncident(
                    incident_id=incident.id,
                    title=incident.title,
                    root_cause=incident.root_cause,
                    resolution=incident.resolution,
                    resolved_at=incident.resolved_at,
                    score=score,
                )
            )
        scored.sort(key=lambda s: (-s.score, -s.incident_id))
        return scored[:limit]

    async def similar_incidents(self, report: IncidentReport, *, limit: int = 3) -> list[SimilarIncident]:
        """The Analyzer's hook: words from the report's scope, title and the specialists that
        found something wrong (never the engineer's free-text question)."""
        words = [v for v in (report.scope.backend, report.scope.frontend) if v]
        if report.overall_severity != "ok":
            words.append(report.title)
        for finding in report.findings:
            if finding.severity in ("warning", "critical"):
                words.extend([finding.specialist, *finding.signals.keys()])
        return await self.search(" ".join(words), limit=limit) if words else []

    def attach(self, analyzer: object) -> None:
        """Give an Analyzer (agent_service.orchestrator) the tool and the hook, once."""
        tools = getattr(analyzer, "extra_tools", None)
        if isinstance(tools, list) and not any(getattr(t, "name", "") == SearchPastIncidentsTool.name for t in tools):
            tools.append(self.tool())
        if hasattr(analyzer, "similar_incidents") and analyzer.similar_incidents is None:  # type: ignore[attr-defined]
            analyzer.similar_incidents = self.similar_incidents  # type: ignore[attr-defined]

    def tool(self) -> SearchPastIncidentsTool:
        return SearchPastIncidentsTool(self)


class SearchPastIncidentsTool:
    name = "search_past_incidents"
    description = (
        "Search RESOLVED past incidents by words (backend or frontend names, alert names, symptoms "
        "such as 'latency', '5xx', 'queue', 'redis memory'). Returns up to `limit` incidents with "
        "their root cause and what resolved them, best match first."
    )
    input_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 500},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
        },
        "required": ["query"],
        "additionalProperties": False,
    }

    def __init__(self, memory: IncidentMemory) -> None:
        self.memory = memory

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        query = arguments.get("query")
        limit = arguments.get("limit", 3)
        if not isinstance(query, str) or not query.strip() or len(query) > 500:
            return ToolResult.fail("`query` must be a non-empty string of at most 500 characters")
        if not isinstance(limit, int) or not 1 <= limit <= 10:
            return ToolResult.fail("`limit` must be an integer from 1 to 10")
        try:
            found = await self.memory.search(query, limit=limit)
        except Exception as exc:  # noqa: BLE001 - a tool failure is a result, not a crash
            return ToolResult.fail(f"incident store unavailable: {type(exc).__name__}")
        return ToolResult.ok({"incidents": [s.model_dump(mode="json") for s in found], "count": len(found)})

"""Memory of past incidents: RESOLVED incidents with a root cause or a resolution, searchable by
words. Exposed to the analysis as the `search_past_incidents` tool (Claude loops, rules engine)
and as the `similar_incidents` hook that fills IncidentReport.similar_incidents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent_service.incidents.models import Incident
from agent_service.incidents.search import DOMAIN_STOP, idf_scores, memory_tokens, situation_score, tokens
from agent_service.incidents.store import IncidentStore
from agent_service.models import IncidentReport, SimilarIncident
from agent_service.runbooks.models import IncidentDoc
from agent_service.tools.base import ToolResult
from agent_service.tools.schema import input_schema, short_errors

MAX_SCAN = 500
TEXT_MIN_SCORE = 0.2
SITUATION_MIN_SCORE = 0.4  # same place, or exactly the same symptoms elsewhere


class IncidentMemory:
    def __init__(self, store: IncidentStore, *, scan: int = MAX_SCAN) -> None:
        self._store = store
        self.scan = scan

    async def _remembered(self, exclude: int | None = None) -> list[Incident]:
        return [
            i for i in await self._store.resolved(self.scan)
            if i.id != exclude and (i.root_cause or i.resolution)
        ]

    async def search(self, query: str, *, limit: int = 3, exclude: int | None = None) -> list[SimilarIncident]:
        """Free-text search (the tool): rare shared words count most."""
        wanted = tokens(query) - DOMAIN_STOP
        past = await self._remembered(exclude)
        scores = idf_scores(wanted, [memory_tokens(i) for i in past])
        return _best(zip(past, scores, strict=True), limit=limit, minimum=TEXT_MIN_SCORE)

    async def similar_incidents(self, report: IncidentReport, *, limit: int = 3) -> list[SimilarIncident]:
        """The Analyzer's hook: past incidents in the same place or with the same symptoms
        (the specialists that flagged). Never uses the engineer's free-text question."""
        symptoms = {f.specialist for f in report.findings if f.severity in ("warning", "critical")}
        if not symptoms and not (report.scope.backend or report.scope.frontend):
            return []
        past = await self._remembered()
        scored = [
            (i, situation_score(backend=report.scope.backend, frontend=report.scope.frontend, symptoms=symptoms, past=i))
            for i in past
        ]
        return _best(scored, limit=limit, minimum=SITUATION_MIN_SCORE)

    async def documents(self) -> list[IncidentDoc]:
        """Each remembered incident's post-mortem (title, root cause, resolution, alert names,
        backend) as the knowledge index keeps it next to the runbooks."""
        return [
            IncidentDoc(incident_id=i.id, title=i.title, root_cause=i.root_cause, resolution=i.resolution,
                        resolved_at=i.resolved_at,
                        alerts=sorted({a.labels["alertname"] for a in i.alerts if a.labels.get("alertname")}),
                        backends=[b for b in [i.scope.get("backend")] if b])
            for i in await self._remembered()
        ]

    def tool(self) -> SearchPastIncidentsTool:
        return SearchPastIncidentsTool(self)


def _best(scored: Iterable[tuple[Incident, float]], *, limit: int, minimum: float) -> list[SimilarIncident]:
    found = [
        SimilarIncident(incident_id=i.id, title=i.title, root_cause=i.root_cause, resolution=i.resolution,
                        resolved_at=i.resolved_at, score=score)
        for i, score in scored
        if score >= minimum
    ]
    found.sort(key=lambda s: (-s.score, -s.incident_id))
    return found[:limit]


class SearchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    query: str = Field(min_length=1, max_length=500)
    limit: int = Field(default=3, ge=1, le=10, strict=True)


class SearchPastIncidentsTool:
    name = "search_past_incidents"
    description = (
        "Search RESOLVED past incidents by words (backend or frontend names, alert names, symptoms "
        "such as 'latency', '5xx', 'queue', 'redis memory'). Returns up to `limit` incidents with "
        "their root cause and what resolved them, best match first."
    )
    input_schema: dict[str, Any] = input_schema(SearchArgs)

    def __init__(self, memory: IncidentMemory) -> None:
        self.memory = memory

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        try:
            args = SearchArgs.model_validate(arguments or {})
        except ValidationError as exc:
            return ToolResult.fail(f"invalid arguments for {self.name}: {short_errors(exc)}")
        try:
            found = await self.memory.search(args.query, limit=args.limit)
        except Exception as exc:  # noqa: BLE001 - a tool failure is a result, not a crash
            return ToolResult.fail(f"incident store unavailable: {type(exc).__name__}")
        return ToolResult.ok({"incidents": [s.model_dump(mode="json") for s in found], "count": len(found)})

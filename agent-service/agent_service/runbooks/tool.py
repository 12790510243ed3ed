"""`search_runbooks`: runbook sections and resolved incidents' post-mortems, best BM25 match first,
as data (the text is untrusted: it reaches a model only inside this tool's result)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent_service.runbooks.index import KnowledgeIndex
from agent_service.runbooks.models import IncidentDoc, Kind, Match
from agent_service.tools.base import ToolResult
from agent_service.tools.schema import input_schema, short_errors

log = logging.getLogger(__name__)

NAME = "search_runbooks"
IncidentSource = Callable[[], Awaitable[Sequence[IncidentDoc]]]


class SearchRunbooksArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    query: str = Field(default="", max_length=500)
    alert: str | None = Field(default=None, max_length=200)
    backend: str | None = Field(default=None, max_length=200)
    runbook_url: str | None = Field(default=None, max_length=1000)
    kind: Kind | None = None
    limit: int = Field(default=5, ge=1, le=10, strict=True)


class SearchRunbooksTool:
    name = NAME
    description = (
        "Search the team's runbooks (sections: what an alert means, first checks, actions) and the "
        "post-mortems of RESOLVED incidents (root cause, what fixed it) by words, alert name "
        "(e.g. 'HighP99Latency'), backend and runbook_url. Returns sections best match first: kind "
        "(runbook|incident), title, file, heading, excerpt, score; incidents with incident_id, "
        "resolution and resolved_at. Cite a section as 'Runbook <title> › <heading> (<file>)'."
    )
    input_schema: dict[str, Any] = input_schema(SearchRunbooksArgs)

    def __init__(self, index: KnowledgeIndex, *, incidents: IncidentSource | None = None) -> None:
        self.index = index
        self.incidents = incidents

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        try:
            args = SearchRunbooksArgs.model_validate(arguments or {})
        except ValidationError as exc:
            return ToolResult.fail(f"invalid arguments for {self.name}: {short_errors(exc)}")
        if not (args.query or args.alert or args.runbook_url):
            return ToolResult.fail(f"{self.name} needs a query, an alert or a runbook_url")
        if self.incidents is not None and args.kind != "runbook":
            try:
                await self.index.resync_incidents(await self.incidents())
            except Exception as exc:  # noqa: BLE001 - runbooks still answer without the incident store
                log.warning("resolved incidents not indexed: %s", exc)
        match = Match(query=args.query, alerts=[args.alert] if args.alert else [], backend=args.backend,
                      runbook_urls=[args.runbook_url] if args.runbook_url else [],
                      kinds=[args.kind] if args.kind else [], limit=args.limit)
        try:
            hits = await self.index.asearch(match)
        except Exception as exc:  # noqa: BLE001 - a tool failure is a result, not a crash
            return ToolResult.fail(f"runbook index unavailable: {type(exc).__name__}")
        return ToolResult.ok({"sections": [h.model_dump(mode="json") for h in hits], "count": len(hits)})

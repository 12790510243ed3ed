"""`get_changes`: the recorded change events of an analysis' window, as data for the specialists.
Bound to each analysis (`for_analysis`): by default the window plus the hour before it, on the
analysis' backend when it has one. Event text is untrusted: it travels only in this tool's result."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_service.events.store import EventQuery, EventStore
from agent_service.models import Scope, Window, sane_instant
from agent_service.tools.base import ToolResult
from agent_service.tools.schema import input_schema, short_errors

NAME = "get_changes"
LOOKBACK = timedelta(hours=1)


class ChangesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    since: datetime | None = Field(default=None, description="RFC 3339; default: an hour before the window")
    until: datetime | None = Field(default=None, description="RFC 3339; default: the window's end")
    backend: str | None = Field(default=None, max_length=200, description="only changes on this backend")
    limit: int = Field(default=20, ge=1, le=50, strict=True)

    @field_validator("since", "until")
    @classmethod
    def _sane(cls, when: datetime | None) -> datetime | None:
        return None if when is None else sane_instant(when)


class GetChangesTool:
    name = NAME
    description = (
        "Recorded changes (deploys, config changes, feature flags, rollbacks; kind `annotation` = "
        "text an alert carried, not a confirmed change) between `since` and `until` (default: the "
        "analysis window and the hour before it), newest first, each with kind, backend/frontend/"
        "service, version, summary, at, by and url. A regression whose onset follows a change on the "
        "same backend within minutes points at that change; no change before it is worth saying too."
    )
    input_schema: dict[str, Any] = input_schema(ChangesArgs)

    def __init__(self, store: EventStore, *, window: Window | None = None, scope: Scope | None = None) -> None:
        self.store = store
        self.window = window
        self.scope = scope or Scope()

    def for_analysis(self, window: Window, scope: Scope) -> GetChangesTool:
        return GetChangesTool(self.store, window=window, scope=scope)

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        try:
            args = ChangesArgs.model_validate(arguments or {})
        except ValidationError as exc:
            return ToolResult.fail(f"invalid arguments for {self.name}: {short_errors(exc)}")
        until = args.until or (self.window.end if self.window else None)
        since = args.since or ((self.window.start - LOOKBACK) if self.window else None)
        backend = args.backend or self.scope.backend
        try:
            events = await self.store.query(EventQuery(since=since, until=until, backend=backend, limit=args.limit))
        except Exception as exc:  # noqa: BLE001 - a tool failure is a result, not a crash
            return ToolResult.fail(f"event store unavailable: {type(exc).__name__}")
        return ToolResult.ok({
            "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
            "backend": backend, "count": len(events), "events": [e.model_dump(mode="json") for e in events],
        })

"""One typed tool per ingestion endpoint. Errors become ToolResult.fail, never exceptions.

Tools are built per analysis: their defaults (window, end, scope) are the analysis's, so every
specialist reads the same minutes even when the model leaves the arguments out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent_service.ingestion_client import IngestionClient, IngestionError, IngestionUnreachable
from agent_service.tools.base import ToolResult
from agent_service.tools.schema import input_schema, short_errors
from agent_service.window import WINDOW_PATTERN, window_minutes


class ScopeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: str | None = Field(
        default=None, pattern=WINDOW_PATTERN,
        description="Length of the window ending at `end`, e.g. '5m', '15m', '1h' (1m…24h). "
        "Defaults to the analysis window.",
    )
    end: datetime | None = Field(default=None, description="RFC 3339 end of the window. Defaults to the analysis end.")
    backend: str | None = Field(default=None, max_length=200, description="Only this HAProxy backend.")
    frontend: str | None = Field(default=None, max_length=200, description="Only this HAProxy frontend.")


class RpsArgs(ScopeArgs):
    minutes: int | None = Field(default=None, ge=1, le=1440,
                                description="How many minutes of series (default: the window).")


class BreakdownArgs(ScopeArgs):
    baseline: str | None = Field(
        default=None, pattern=WINDOW_PATTERN,
        description="Length of the baseline the window is compared with, e.g. '60m', '6h' (1m…24h). "
        "Default 60m.",
    )
    baseline_end: datetime | None = Field(
        default=None, description="RFC 3339 end of the baseline. Defaults to the window's start (the "
        "hour just before it); set it before an incident's onset to compare with healthy traffic.",
    )


@dataclass(frozen=True)
class Defaults:
    window: str
    end: datetime
    backend: str | None = None
    frontend: str | None = None

    @property
    def window_minutes(self) -> int:
        return window_minutes(self.window)


@dataclass
class SourceTracker:
    """What the tools saw of ingestion during one analysis, and the answers it already got:
    within one analysis (one fixed `end`) an identical query has the same answer, so the
    specialists asking it share one request (concurrent askers wait for the same one)."""

    ok: int = 0
    unreachable: int = 0
    errors: list[str] = field(default_factory=list)
    answers: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    queries: int = 0

    @property
    def state(self) -> str:
        return "unreachable" if self.unreachable and not self.ok else "ok"


Fetch = Callable[[IngestionClient, dict[str, Any]], Awaitable[BaseModel]]


class IngestionTool:
    def __init__(
        self,
        *,
        name: str,
        description: str,
        fetch: Fetch,
        client: IngestionClient,
        defaults: Defaults,
        tracker: SourceTracker,
        args_model: type[ScopeArgs] = ScopeArgs,
        max_chars: int = 16_000,
    ) -> None:
        self.name = name
        self.description = description
        self.input_schema = input_schema(args_model)
        self._fetch = fetch
        self._client = client
        self._defaults = defaults
        self._tracker = tracker
        self._args_model = args_model
        self._max_chars = max_chars

    def resolve(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments the call really uses: the model's, completed by the analysis defaults."""
        args = self._args_model.model_validate(arguments or {})
        resolved: dict[str, Any] = {
            "window": args.window or self._defaults.window,
            "end": args.end or self._defaults.end,
            "backend": args.backend if "backend" in args.model_fields_set else self._defaults.backend,
            "frontend": args.frontend if "frontend" in args.model_fields_set else self._defaults.frontend,
        }
        if isinstance(args, BreakdownArgs):
            resolved["baseline"] = args.baseline
            resolved["baseline_end"] = args.baseline_end
        if isinstance(args, RpsArgs):
            resolved["minutes"] = args.minutes or window_minutes(resolved["window"])
            del resolved["window"]
        return resolved

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        try:
            resolved = self.resolve(arguments)
        except ValidationError as exc:
            return ToolResult.fail(f"invalid arguments for {self.name}: {short_errors(exc)}")
        key = self.name + json.dumps(resolved, sort_keys=True, default=str)
        shared = self._tracker.answers.get(key)
        if shared is not None:
            try:
                return ToolResult.ok(await asyncio.shield(shared))
            except Exception:  # noqa: BLE001 - the first asker failed: ask again below
                pass
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._tracker.answers[key] = future
        try:
            result = await self._ask(resolved)
        except BaseException:  # cancelled (a deadline): let the waiters ask for themselves
            self._tracker.answers.pop(key, None)
            future.set_exception(LookupError("the shared query was cancelled"))
            future.exception()
            raise
        if result.status == "ok":
            future.set_result(result.data)
        else:
            self._tracker.answers.pop(key, None)
            future.set_exception(LookupError(result.error))
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waits
        return result

    async def _ask(self, resolved: dict[str, Any]) -> ToolResult:
        self._tracker.queries += 1
        try:
            model = await self._fetch(self._client, resolved)
        except IngestionUnreachable as exc:
            self._tracker.unreachable += 1
            self._tracker.errors.append(str(exc))
            return ToolResult.fail(str(exc))
        except IngestionError as exc:
            self._tracker.ok += 1  # it answered
            self._tracker.errors.append(str(exc))
            return ToolResult.fail(str(exc))
        self._tracker.ok += 1
        return ToolResult.ok(cap(model.model_dump(mode="json"), self._max_chars))


def cap(data: Any, max_chars: int) -> Any:
    """Cut the longest list of a result until it fits, and say so (narrow the query instead)."""
    if len(json.dumps(data, default=str)) <= max_chars or not isinstance(data, dict):
        return data
    lists = [k for k, v in data.items() if isinstance(v, list) and v]
    if not lists:
        return data
    key = max(lists, key=lambda k: len(data[k]))
    items = list(data[key])
    total = len(items)
    trimmed = dict(data)
    while items and len(json.dumps({**trimmed, key: items}, default=str)) > max_chars - 200:
        items = items[: max(0, int(len(items) * 0.75))]
    trimmed[key] = items
    trimmed["truncated"] = (
        f"{key} cut to {len(items)} of {total} entries to fit the tool result limit; "
        "narrow the query (a shorter window, or a backend/frontend filter) to see the rest"
    )
    return trimmed

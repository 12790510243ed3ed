"""What the rules engine asks search_runbooks for a diagnosed case, and which answers apply: the
runbook of the incident's alert (by name or runbook_url) or, for an analysis no alert started, of
the alert that watches the root problem's failure mode; and the last resolved incident like it,
with its fix. A runbook dir without those alerts is searched by the problem's words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from agent_service.diagnosis.case import Reference
from agent_service.diagnosis.diagnose import Diagnosis
from agent_service.diagnosis.story import groups
from agent_service.engine import AnalysisContext
from agent_service.runbooks.models import Hit
from agent_service.runbooks.tool import NAME
from agent_service.tools.base import Tool

MAX_ASKS = 3
_FIRST = ("first check", "first step", "triage")

# The shipped alert (monitoring/alert-rules.yml) whose runbook covers a failure mode of the catalogue.
MODE_ALERT = {
    "no_server": "BackendNoServerAvailable", "server_refusing": "BackendConnectionErrors",
    "network_connect": "BackendConnectionErrors", "server_errors": "ServerHigh5xxRate",
    "server_slow": "HighP99Latency", "servers_aborting": "High5xxRate", "server_timeout": "BackendServerTimeouts",
    "traffic_surge": "HAProxyRequestsQueued", "overloaded_queueing": "HAProxyRequestsQueued",
    "slow_upstream": "HighP99Latency", "app_errors": "High5xxRate", "retry_storm": "BackendRetriesHigh",
    "retry_wait": "BackendRetriesHigh", "proxy_denial": "High4xxRate", "client_errors_4xx": "High4xxRate",
    "traffic_drop": "TrafficDroppedToZero", "redis_memory": "RedisMemoryHigh", "site_latency": "HighP99Latency",
    "site_errors": "High5xxRate",
}
SPECIALIST_ALERT = {"latency": "HighP99Latency", "errors": "High5xxRate", "saturation": "HAProxyRequestsQueued",
                    "traffic": "TrafficDroppedToZero"}


def questions(diagnosis: Diagnosis, context: AnalysisContext) -> list[dict[str, Any]]:
    """One search per alert of the incident, or per problem's root mode (at most 3 each)."""
    roots = [g.root for g in groups(diagnosis.problems)]
    if not roots:
        return []
    backend = context.scope.backend or next((h.backend for h in roots if h.backend), None)
    base: dict[str, Any] = {"query": " ".join(dict.fromkeys(h.headline for h in roots))[:500], "limit": 10}
    if backend:
        base["backend"] = backend
    if context.alerts:
        return [{**base, "alert": a.name, **({"runbook_url": a.runbook_url} if a.runbook_url else {})}
                for a in context.alerts[:MAX_ASKS]]
    names = dict.fromkeys(MODE_ALERT.get(h.mode) or SPECIALIST_ALERT[h.specialist] for h in roots)
    return [{**base, "alert": name} for name in list(names)[:MAX_ASKS]]


def best_runbook(hits: Sequence[Hit]) -> Reference | None:
    """The runbook whose sections score highest together; its first-checks section when found."""
    books = [h for h in hits if h.kind == "runbook"]
    if not books:
        return None
    total: dict[str, float] = {}
    for h in books:
        total[h.file] = total.get(h.file, 0.0) + h.score
    file = max(total, key=lambda f: (total[f], f))
    same = [h for h in books if h.file == file]
    best = next((h for h in same if any(w in h.heading.lower() for w in _FIRST)), same[0])
    return Reference(kind="runbook", title=best.title, file=best.file, heading=best.heading)


def applicable(hits: Sequence[Hit]) -> list[Reference]:
    """Of what an alert's search found, what the alert names (or its runbook_url points at)."""
    named = [h for h in hits if {"alert", "runbook_url"} & set(h.matched_by)]
    out = [r for r in [best_runbook(named)] if r is not None]
    past = next((h for h in named if h.kind == "incident" and h.resolution), None)
    if past is not None:
        out.append(Reference(kind="incident", title=past.title, file=past.file, heading=past.heading,
                             incident_id=past.incident_id, resolution=past.resolution, resolved_at=past.resolved_at))
    return out


async def _ask(tool: Tool, ask: dict[str, Any]) -> list[Hit]:
    result = await tool.run(ask)
    if result.status != "ok" or not isinstance(result.data, dict):
        return []
    try:
        return [Hit.model_validate(h) for h in result.data.get("sections") or []]
    except ValidationError:
        return []


async def fetch_references(diagnosis: Diagnosis, context: AnalysisContext, tools: Sequence[Tool]) -> tuple[Reference, ...]:
    tool = next((t for t in tools if t.name == NAME), None)
    if tool is None:
        return ()
    asks = questions(diagnosis, context)
    found: list[Reference] = []
    for ask in asks:
        for ref in applicable(await _ask(tool, ask)):
            if all((r.kind, r.file) != (ref.kind, ref.file) for r in found):
                found.append(ref)
    if asks and not context.alerts and not any(r.kind == "runbook" for r in found):
        words = {k: v for k, v in asks[0].items() if k != "alert"}  # no runbook names the modes' alerts
        book = best_runbook(await _ask(tool, {**words, "kind": "runbook"}))
        if book is not None:
            found.insert(0, book)
    return tuple(found)

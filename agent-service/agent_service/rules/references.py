"""What the rules engine asks search_runbooks for a diagnosed case, and which answers apply: the
runbook of the incident's alert (by name or runbook_url; without alerts the best text match) and
the last resolved incident like it, with its fix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from agent_service.diagnosis.case import Reference
from agent_service.diagnosis.diagnose import Diagnosis
from agent_service.engine import AnalysisContext
from agent_service.runbooks.models import Hit
from agent_service.runbooks.tool import NAME
from agent_service.tools.base import Tool

MAX_ALERTS = 3
_FIRST = ("first check", "first step", "triage")


def questions(diagnosis: Diagnosis, context: AnalysisContext) -> list[dict[str, Any]]:
    """One search per alert of the incident (at most 3), or one by words for an ad-hoc analysis."""
    problems = diagnosis.problems
    if not problems:
        return []
    words = " ".join(dict.fromkeys([*(h.specialist for h in problems), *(h.headline for h in problems[:3])]))
    backend = context.scope.backend or next((h.backend for h in problems if h.backend), None)
    base: dict[str, Any] = {"query": words[:500], "limit": 10}
    if backend:
        base["backend"] = backend
    if not context.alerts:
        return [base]
    out = []
    for alert in context.alerts[:MAX_ALERTS]:
        ask = {**base, "alert": alert.name}
        if alert.runbook_url:
            ask["runbook_url"] = alert.runbook_url
        out.append(ask)
    return out


def applicable(hits: Sequence[Hit], *, by_alert: bool) -> list[Reference]:
    """The best runbook (its first-checks section when it has one among the hits) and the best
    past incident with a fix. With alerts, only what the alert names (or its runbook_url) counts."""
    def counts(h: Hit) -> bool:
        return not by_alert or bool({"alert", "runbook_url"} & set(h.matched_by))

    books = [h for h in hits if h.kind == "runbook" and counts(h)]
    out: list[Reference] = []
    if books:
        same = [h for h in books if h.file == books[0].file]
        best = next((h for h in same if any(w in h.heading.lower() for w in _FIRST)), same[0])
        out.append(Reference(kind="runbook", title=best.title, file=best.file, heading=best.heading))
    past = next((h for h in hits if h.kind == "incident" and h.resolution and counts(h)), None)
    if past is not None:
        out.append(Reference(kind="incident", title=past.title, file=past.file, heading=past.heading,
                             incident_id=past.incident_id, resolution=past.resolution, resolved_at=past.resolved_at))
    return out


async def fetch_references(diagnosis: Diagnosis, context: AnalysisContext, tools: Sequence[Tool]) -> tuple[Reference, ...]:
    tool = next((t for t in tools if t.name == NAME), None)
    if tool is None:
        return ()
    found: list[Reference] = []
    for ask in questions(diagnosis, context):
        result = await tool.run(ask)
        if result.status != "ok" or not isinstance(result.data, dict):
            continue
        try:
            hits = [Hit.model_validate(h) for h in result.data.get("sections") or []]
        except ValidationError:
            continue
        for ref in applicable(hits, by_alert=bool(context.alerts)):
            if all((r.kind, r.file) != (ref.kind, ref.file) for r in found):
                found.append(ref)
    return tuple(found)

"""Pure text search and filters over incidents, and the similarity score used by the memory of
past incidents. Small scale by design: the store hands over the most recent N incidents."""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent_service.incidents.models import Incident, IncidentStatus

_WORD = re.compile(r"[a-z0-9_]+(?:[.\-][a-z0-9_]+)*")
_PLAIN = re.compile(r"^[a-z0-9]+$")
_STOP = frozenset(
    "a an and are as at be by for from has have in is it of on or the to was were with".split()
)


def tokens(text: str) -> set[str]:
    found: set[str] = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP or len(word) < 2:
            continue
        found.add(word)
        if not _PLAIN.match(word):  # names like be_app.v2: also findable by be_app, app, v2
            found.update(p for p in re.split(r"[.\-]", word) if len(p) > 1)
            found.update(p for p in re.split(r"[.\-_]", word) if len(p) > 1)
    return found


def searchable_text(incident: Incident) -> str:
    parts: list[str] = [incident.title, incident.summary, incident.root_cause or "", incident.resolution or ""]
    parts.extend(f"{k} {v}" for k, v in incident.labels.items())
    parts.extend(v for v in incident.scope.values() if v)
    for alert in incident.alerts:
        parts.extend(alert.labels.values())
        parts.extend(alert.annotations.values())
    for report in incident.reports:
        parts.extend([report.title, report.diagnosis])
    parts.extend(event.message for event in incident.timeline if event.kind == "note")
    parts.extend(incident.action_items)
    return "\n".join(parts)


def matches(
    incident: Incident, *, status: IncidentStatus | None = None, severity: str | None = None, query: str | None = None
) -> bool:
    if status is not None and incident.status != status:
        return False
    if severity is not None and incident.severity != severity:
        return False
    if query:
        wanted = tokens(query)
        if not wanted:
            return query.lower() in searchable_text(incident).lower()
        return wanted <= tokens(searchable_text(incident))
    return True


def filter_incidents(
    incidents: Iterable[Incident],
    *,
    status: IncidentStatus | None = None,
    severity: str | None = None,
    query: str | None = None,
    limit: int = 50,
) -> list[Incident]:
    found: list[Incident] = []
    for incident in incidents:
        if matches(incident, status=status, severity=severity, query=query):
            found.append(incident)
            if len(found) >= limit:
                break
    return found


def memory_text(incident: Incident) -> str:
    """What a past incident is remembered by: what it was about and what fixed it."""
    parts = [incident.title, incident.root_cause or "", incident.resolution or ""]
    parts.extend(f"{k} {v}" for k, v in incident.labels.items() if k not in ("severity", "job", "instance"))
    parts.extend(v for v in incident.scope.values() if v)
    for report in incident.reports[-1:]:
        parts.append(report.title)
        parts.extend(f.specialist for f in report.findings if f.severity in ("warning", "critical"))
    return "\n".join(parts)


def similarity(query: set[str], candidate: set[str]) -> float:
    """Share of the query's words the candidate has, damped by the candidate's size (0…1)."""
    if not query or not candidate:
        return 0.0
    common = len(query & candidate)
    if not common:
        return 0.0
    return round(common / len(query) * (common / len(query | candidate)) ** 0.5, 4)

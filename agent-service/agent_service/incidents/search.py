"""Pure text search and filters over incidents, and the scores used by the memory of
past incidents. Small scale by design: the caller hands over a bounded batch of incidents
(listing.py for `GET /incidents?q=`, memory.py for past incidents)."""

from __future__ import annotations

import math
import re

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
        text = searchable_text(incident).lower()
        if not wanted:
            return query.lower() in text
        # Every token is a substring of the lowered text: the cheap test first (a big incident's
        # labels are megabytes to tokenize).
        return all(word in text for word in wanted) and wanted <= tokens(text)
    return True


# Words every incident of this product shares: they say nothing about which one is similar.
DOMAIN_STOP = frozenset(
    "backend frontend high low critical warning ok info page alert alerts severity incident on "
    "rate error be fe srv".split()
)


def memory_tokens(incident: Incident) -> set[str]:
    """What a past incident is remembered by: what it was about and what fixed it."""
    parts = [incident.title, incident.root_cause or "", incident.resolution or ""]
    parts.extend(f"{k} {v}" for k, v in incident.labels.items() if k not in ("severity", "job", "instance"))
    parts.extend(v for v in incident.scope.values() if v)
    parts.extend(flagged(incident))
    return tokens("\n".join(parts)) - DOMAIN_STOP


def flagged(incident: Incident) -> set[str]:
    """Specialists that found something wrong in the incident's latest analysis."""
    if not incident.reports:
        return set()
    return {f.specialist for f in incident.reports[-1].findings if f.severity in ("warning", "critical")}


def idf_scores(query: set[str], documents: list[set[str]]) -> list[float]:
    """Share of the query's information each document holds (0…1), words weighted by rarity
    across the documents (a word every past incident has counts for little)."""
    n = len(documents)
    if not query or not n:
        return [0.0] * n
    df = {w: sum(1 for d in documents if w in d) for w in query}
    weight = {w: math.log((n + 1) / (df[w] + 0.5)) for w in query}
    total = sum(weight.values())
    if total <= 0:
        return [0.0] * n
    return [round(sum(weight[w] for w in query & d) / total, 4) for d in documents]


def situation_score(
    *, backend: str | None, frontend: str | None, symptoms: set[str], past: Incident
) -> float:
    """How much a past incident looks like the current situation: same place (0.6) and the same
    specialists flagged (0.4 × Jaccard)."""
    same_place = bool(backend and past.scope.get("backend") == backend) or bool(
        frontend and past.scope.get("frontend") == frontend
    )
    theirs = flagged(past)
    overlap = len(symptoms & theirs) / len(symptoms | theirs) if symptoms and theirs else 0.0
    return round(0.6 * same_place + 0.4 * overlap, 4)

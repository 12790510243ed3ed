"""What the pages show, computed from the stored records: pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from agent_service.console.errors import ConsoleRefusal
from agent_service.incidents.handoff import rules_handoff
from agent_service.incidents.lifecycle import ALLOWED, now_utc
from agent_service.incidents.models import Handoff, Incident, IncidentStatus
from agent_service.incidents.postmortem import render_postmortem

SEVERITIES = ("critical", "warning", "info")
MAX_CURSOR = 1_000_000


@dataclass(frozen=True)
class Filters:
    status: IncidentStatus | None
    severity: str | None
    cursor: int

    def query(self, *, cursor: int | None = None) -> str:
        """The list's query string for the same filters at `cursor` (the first page without)."""
        params = {"status": self.status.value if self.status else "", "severity": self.severity or ""}
        if cursor:
            params["cursor"] = str(cursor)
        return urlencode({k: v for k, v in params.items() if v})


def list_filters(params: Mapping[str, str]) -> Filters:
    """The incidents list's filters from its query string (empty = any); bad values are a 422."""
    status_text, severity = params.get("status", ""), params.get("severity", "") or None
    try:
        status = IncidentStatus(status_text) if status_text else None
        cursor = int(params.get("cursor", "0") or 0)
    except ValueError:
        raise ConsoleRefusal(422, "status is OPEN, INVESTIGATING, MITIGATED or RESOLVED; cursor a number") from None
    if severity is not None and severity not in SEVERITIES:
        raise ConsoleRefusal(422, "severity is critical, warning or info")
    if not 0 <= cursor <= MAX_CURSOR:
        raise ConsoleRefusal(422, f"cursor is between 0 and {MAX_CURSOR}")
    return Filters(status=status, severity=severity, cursor=cursor)


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    next_statuses: list[IncidentStatus]
    handoff: Handoff
    postmortem: str


def incident_view(incident: Incident) -> IncidentView:
    order = list(IncidentStatus)
    return IncidentView(
        incident=incident,
        next_statuses=sorted(ALLOWED[incident.status], key=order.index),
        handoff=rules_handoff(incident, now=now_utc()),
        postmortem=render_postmortem(incident),
    )

"""What a chat user can do to an incident (Slack buttons, Telegram commands): acknowledge, mark
MITIGATED, mark RESOLVED, approve or reject a remediation proposal — as that user. One place for
both chats, returning a value to word."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from agent_service.incidents.ack import AckRefused
from agent_service.incidents.lifecycle import TransitionError
from agent_service.incidents.models import Incident, IncidentStatus, StatusChange
from agent_service.incidents.service import IncidentService
from agent_service.incidents.store import IncidentNotFound
from agent_service.remediation.lifecycle import ProposalConflict, ProposalNotFound
from agent_service.remediation.models import summary
from agent_service.remediation.service import RemediationService

ChatAction = Literal["ack", "mitigated", "resolved"]
ACTIONS: tuple[ChatAction, ...] = ("ack", "mitigated", "resolved")
_TARGET = {"mitigated": IncidentStatus.MITIGATED, "resolved": IncidentStatus.RESOLVED}
_NOT_NAME = re.compile(r"[^\w.@+\-]")
ProposalAction = Literal["approve", "reject"]
PROPOSAL_ACTIONS: tuple[ProposalAction, ...] = ("approve", "reject")
PID = re.compile(r"^p\d{1,6}$")


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str  # plain text: each chat escapes it its own way
    incident: Incident | None = None


def chat_actor(channel: str, *names: str | None) -> str:
    """`slack:alice` from the first usable name (the incident actor's character set, bounded)."""
    for name in names:
        cleaned = _NOT_NAME.sub("", name or "")[:80]
        if cleaned:
            return f"{channel}:{cleaned}"
    return f"{channel}:unknown"


async def act(service: IncidentService, incident_id: int, action: ChatAction, *, actor: str) -> ActionResult:
    try:
        if action == "ack":
            incident = await service.acknowledge(incident_id, actor)
            owner = incident.acknowledged_by or actor
            said = f"#{incident_id} acknowledged by {actor}" if owner == actor else \
                f"#{incident_id}: {owner} has it already (your ack is on the timeline)"
            return ActionResult(True, said, incident)
        incident = await service.change_status(incident_id, StatusChange(status=_TARGET[action], actor=actor))
        return ActionResult(True, f"#{incident_id} marked {incident.status.value} by {actor}", incident)
    except IncidentNotFound:
        return ActionResult(False, f"incident #{incident_id} not found")
    except (TransitionError, AckRefused) as exc:
        return ActionResult(False, f"#{incident_id}: {exc}", await service.store.get(incident_id))


async def decide(remediation: RemediationService, service: IncidentService, incident_id: int, pid: str,
                 action: ProposalAction, *, actor: str) -> ActionResult:
    """Approve (then execute what is executable here) or reject proposal `pid` as the chat user."""
    try:
        if action == "approve":
            record = await remediation.approve(incident_id, pid, actor)
            said = f"#{incident_id} {pid} approved by {actor}: {summary(record.proposal)} ({record.state}"
            said += f": {record.execution.error})" if record.execution and record.execution.error else ")"
        else:
            record = await remediation.reject(incident_id, pid, actor)
            said = f"#{incident_id} {pid} rejected by {actor}: {summary(record.proposal)}"
        return ActionResult(True, said, await service.store.get(incident_id))
    except IncidentNotFound:
        return ActionResult(False, f"incident #{incident_id} not found")
    except (ProposalNotFound, ProposalConflict) as exc:
        return ActionResult(False, f"#{incident_id}: {exc}", await service.store.get(incident_id))

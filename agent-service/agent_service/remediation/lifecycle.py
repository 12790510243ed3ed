"""A proposal's life on an incident (pure; each function mutates the Incident inside one
IncidentStore.update, so the state and its timeline event are one WATCH/MULTI write).

pending → approved → executed | dry_run | failed;  executed → undone;  pending → rejected;
pending → expired (a newer report replaced the set: the facts changed)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from agent_service.remediation.models import Execution, ProposalRecord, summary

if TYPE_CHECKING:
    from agent_service.incidents.models import Incident
    from agent_service.models import IncidentReport

MAX_RECORDS = 50  # the oldest decided ones go first


class ProposalNotFound(LookupError):
    pass


class ProposalConflict(ValueError):
    """The proposal is not in a state that allows this (a 409 with the reason)."""


def find(incident: Incident, pid: str) -> ProposalRecord:
    for record in incident.proposals:
        if record.id == pid:
            return record
    raise ProposalNotFound(f"incident {incident.id} has no proposal {pid}")


def _next_number(incident: Incident) -> int:
    numbers = [int(r.id[1:]) for r in incident.proposals if r.id[1:].isdigit()]
    return max(numbers, default=0) + 1


def refresh(incident: Incident, report: IncidentReport, at: datetime) -> None:
    """A newer report: the pending proposals expire, the report's own become pending."""
    stale = [r for r in incident.proposals if r.state == "pending"]
    for r in stale:
        r.state, r.decided_at = "expired", at
        r.reason = f"the facts changed: report {report.id} replaced the proposals of report {r.report_id}"
    if stale:
        incident.add_event("proposal_expired", f"{len(stale)} pending proposal(s) expired: a newer analysis replaced them",
                           actor="system", at=at, data={"ids": [r.id for r in stale], "report_id": report.id})
    first = _next_number(incident)
    made = [ProposalRecord(id=f"p{first + i}", report_id=report.id, proposal=p, created_at=at)
            for i, p in enumerate(report.proposals)]
    if made:
        incident.proposals.extend(made)
        incident.add_event("proposals_made", "proposed: " + "; ".join(f"{r.id} {summary(r.proposal)}" for r in made),
                           actor="system", at=at, data={"ids": [r.id for r in made], "report_id": report.id})
    excess = len(incident.proposals) - MAX_RECORDS
    if excess > 0:
        decided = [r for r in incident.proposals if r.state != "pending"][:excess]
        incident.proposals = [r for r in incident.proposals if r not in decided]


def _pending(incident: Incident, pid: str, verb: str) -> ProposalRecord:
    record = find(incident, pid)
    if record.state != "pending":
        why = f": {record.reason}" if record.reason else ""
        raise ProposalConflict(f"proposal {pid} is {record.state}, it cannot be {verb}{why}")
    if incident.status.value == "RESOLVED":
        raise ProposalConflict(f"incident {incident.id} is RESOLVED: its proposals can no longer be {verb}")
    return record


def approve(incident: Incident, *, pid: str, actor: str, at: datetime) -> ProposalRecord:
    record = _pending(incident, pid, "approved")
    record.state, record.decided_by, record.decided_at = "approved", actor, at
    incident.add_event("proposal_approved", f"{pid} approved by {actor}: {summary(record.proposal)}",
                       actor=actor, at=at, data={"id": pid, "type": record.proposal.type})
    return record.model_copy(deep=True)


def reject(incident: Incident, *, pid: str, actor: str, at: datetime, reason: str | None) -> ProposalRecord:
    record = _pending(incident, pid, "rejected")
    record.state, record.decided_by, record.decided_at, record.reason = "rejected", actor, at, reason
    why = f" ({reason})" if reason else ""
    incident.add_event("proposal_rejected", f"{pid} rejected by {actor}{why}: {summary(record.proposal)}",
                       actor=actor, at=at, data={"id": pid, "type": record.proposal.type})
    return record.model_copy(deep=True)


def _steps(execution: Execution) -> list[dict[str, object]]:
    return [{"socket": s.socket, "command": s.command, "previous": s.previous, "ok": s.ok, "error": s.error}
            for s in execution.steps]


def record_execution(incident: Incident, *, pid: str, execution: Execution) -> ProposalRecord:
    record = find(incident, pid)
    record.execution = execution
    record.state = "dry_run" if execution.dry_run and execution.ok else ("executed" if execution.ok else "failed")
    commands = "; ".join(s.command for s in execution.steps) or "nothing"
    if execution.dry_run:
        message = f"{pid} dry run (REMEDIATION_EXECUTE=false), would send: {commands}"
    elif execution.ok:
        message = f"{pid} executed: {commands}"
    else:
        message = f"{pid} failed: {execution.error or 'see the steps'} ({commands})"
    incident.add_event("proposal_failed" if not execution.ok else "proposal_executed", message,
                       actor="system", at=execution.at,
                       data={"id": pid, "dry_run": execution.dry_run, "steps": _steps(execution)})
    return record.model_copy(deep=True)


def undoable(incident: Incident, pid: str) -> ProposalRecord:
    record = find(incident, pid)
    if record.state != "executed" or record.execution is None:
        raise ProposalConflict(f"proposal {pid} is {record.state}: only an executed proposal can be undone")
    if not any(s.ok and s.undo_command for s in record.execution.steps):
        raise ProposalConflict(f"proposal {pid} has no recorded inverse command")
    return record.model_copy(deep=True)


def record_undo(incident: Incident, *, pid: str, actor: str, execution: Execution) -> ProposalRecord:
    undoable(incident, pid)  # still executed (a concurrent undo got there first: 409)
    stored = find(incident, pid)
    stored.undo = execution
    commands = "; ".join(s.command for s in execution.steps)
    if execution.ok:
        stored.state = "undone"
        incident.add_event("proposal_undone", f"{pid} undone by {actor}: {commands}", actor=actor, at=execution.at,
                           data={"id": pid, "steps": _steps(execution)})
    else:
        incident.add_event("proposal_undo_failed", f"{pid} undo by {actor} failed: {execution.error} ({commands})",
                           actor=actor, at=execution.at, data={"id": pid, "steps": _steps(execution)})
    return stored.model_copy(deep=True)


def record_link(incident: Incident, *, pid: str, url: str, what: str, at: datetime) -> None:
    record = find(incident, pid)
    record.links.append(url)
    incident.add_event("proposal_executed", f"{pid}: {what} {url}", actor="system", at=at, data={"id": pid, "url": url})

"""What the API, the console and the chats do with proposals: list, approve (then execute what is
executable here), reject, undo. Each state change is one IncidentStore.update (the proposal's
state and its timeline event in the incident's WATCH/MULTI); a Runtime API call happens between
two of them, never inside one. Nothing executes without the approval stored first."""

from __future__ import annotations

import logging
from functools import partial

from agent_service.incidents.lifecycle import now_utc
from agent_service.incidents.store import IncidentNotFound, IncidentStore
from agent_service.remediation import lifecycle
from agent_service.remediation.haproxy import RuntimeClient
from agent_service.remediation.models import RUNTIME_TYPES, ProposalList, ProposalRecord, summary
from agent_service.remediation.ports import ChangeFiler

log = logging.getLogger(__name__)
PR_TYPES = frozenset({"rollback"})  # proposals a draft pull request can carry (ports.ChangeFiler)


class RemediationService:
    def __init__(self, store: IncidentStore, *, runtime: RuntimeClient | None, execute: bool,
                 filer: ChangeFiler | None = None) -> None:
        self.store = store
        self.runtime = runtime  # None: HAPROXY_RUNTIME_SOCKETS unset, nothing is executable here
        self.execute = execute  # REMEDIATION_EXECUTE: false = dry run (the exact commands, none sent)
        self.filer = filer

    async def list(self, incident_id: int) -> ProposalList:
        incident = await self.store.get(incident_id)
        if incident is None:
            raise IncidentNotFound(incident_id)
        return ProposalList(incident_id=incident_id, proposals=incident.proposals, execute=self.execute)

    async def approve(self, incident_id: int, pid: str, actor: str) -> ProposalRecord:
        _, record = await self.store.update(incident_id, partial(lifecycle.approve, pid=pid, actor=actor, at=now_utc()))
        p = record.proposal
        if p.type in RUNTIME_TYPES and self.runtime is not None:  # this service's sockets decide, not the report
            execution = await self.runtime.apply(p, dry_run=not self.execute)
            _, record = await self.store.update(incident_id, partial(lifecycle.record_execution, pid=pid,
                                                                     execution=execution))
        elif p.type in PR_TYPES and self.filer is not None:
            record = await self._file(incident_id, record)
        return record

    async def _file(self, incident_id: int, record: ProposalRecord) -> ProposalRecord:
        title = f"Incident #{incident_id}: {summary(record.proposal)}"
        body = "\n".join([f"Proposed by the on-call copilot and approved by {record.decided_by}.", "",
                          *(f"- {e}" for e in record.proposal.evidence), "", f"Undo: {record.proposal.undo.how}"])
        try:
            url = await self.filer.open_draft_pr(record.proposal, incident_id, title, body) if self.filer else None
        except Exception as exc:  # noqa: BLE001 - the approval stands; the timeline says the PR failed
            log.warning("incident %s %s: draft PR not opened: %s", incident_id, record.id, exc)
            return record
        if url:
            incident, _ = await self.store.update(incident_id, partial(
                lifecycle.record_link, pid=record.id, url=url, what="draft pull request", at=now_utc()))
            return lifecycle.find(incident, record.id).model_copy(deep=True)
        return record

    async def reject(self, incident_id: int, pid: str, actor: str, reason: str | None = None) -> ProposalRecord:
        _, record = await self.store.update(incident_id, partial(lifecycle.reject, pid=pid, actor=actor,
                                                                 at=now_utc(), reason=reason))
        return record

    async def undo(self, incident_id: int, pid: str, actor: str) -> ProposalRecord:
        incident = await self.store.get(incident_id)
        if incident is None:
            raise IncidentNotFound(incident_id)
        record = lifecycle.undoable(incident, pid)
        if self.runtime is None or record.execution is None:
            raise lifecycle.ProposalConflict("no HAProxy runtime socket is configured to undo it from")
        reverted = await self.runtime.revert(record.execution)
        _, record = await self.store.update(incident_id, partial(lifecycle.record_undo, pid=pid, actor=actor,
                                                                 execution=reverted))
        return record

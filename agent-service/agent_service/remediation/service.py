"""What the API, the console and the chats do with proposals: list, approve (then execute what is
executable here), reject, undo. Each state change is one IncidentStore.update (the proposal's
state and its timeline event in the incident's WATCH/MULTI); a Runtime API call happens between
two of them, never inside one. Nothing executes without the approval stored first."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from functools import partial

from agent_service.incidents.lifecycle import now_utc
from agent_service.incidents.store import IncidentNotFound, IncidentStore
from agent_service.remediation import lifecycle
from agent_service.remediation.haproxy import RuntimeClient
from agent_service.remediation.models import RUNTIME_TYPES, ProposalList, ProposalRecord, summary
from agent_service.remediation.ports import ChangeFiler
from agent_service.report.markdown import render as render_report

log = logging.getLogger(__name__)


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
        elif self.filer is not None:  # the filer says which proposals a pull request carries
            record = await self._file(incident_id, record)
        return record

    async def _file(self, incident_id: int, record: ProposalRecord) -> ProposalRecord:
        """The incident's issue (its latest report; filed once per incident), then the draft pull
        request the proposal makes, each linked in the timeline. A failure leaves the approval
        standing and is logged; GitHub is never a reason for a 500."""
        filer = self.filer
        assert filer is not None
        incident = await self.store.get(incident_id)
        report = render_report(incident.reports[-1]) if incident is not None and incident.reports else ""
        body = "\n".join([f"Proposed by the on-call copilot and approved by {record.decided_by}.", "",
                          *(f"- {e}" for e in record.proposal.evidence), "", f"Undo: {record.proposal.undo.how}",
                          "", report])
        issue_title = f"Incident #{incident_id}: {incident.title if incident else ''}"[:200]
        links = [(what, url) for what, url in [
            ("issue", await self._try("issue", incident_id, record.id,
                                      filer.file_issue(incident_id, issue_title, body, []))),
            ("draft pull request", await self._try("draft pull request", incident_id, record.id, filer.open_draft_pr(
                record.proposal, incident_id, f"Incident #{incident_id}: {summary(record.proposal)}", body)))]
            if url]
        for what, url in links:
            incident, _ = await self.store.update(incident_id, partial(
                lifecycle.record_link, pid=record.id, url=url, what=what, at=now_utc()))
        return lifecycle.find(incident, record.id).model_copy(deep=True) if links and incident else record

    @staticmethod
    async def _try(what: str, incident_id: int, pid: str, call: Awaitable[str | None]) -> str | None:
        try:
            return await call
        except Exception as exc:  # noqa: BLE001 - the approval stands; the log says what failed
            log.warning("incident %s %s: %s not filed: %s", incident_id, pid, what, exc)
            return None

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

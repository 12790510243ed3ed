"""Remediation proposals of an incident: list, approve, reject, undo (API_TOKEN when set). Thin:
remediation/service.py does the work; a proposal not in a state for it is a 409 with the reason."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path

from oncall_common.security import BearerAuth
from agent_service.api.deps import RemediationDep
from agent_service.incidents.store import IncidentNotFound
from agent_service.remediation.lifecycle import ProposalConflict, ProposalNotFound
from agent_service.remediation.models import ProposalDecision, ProposalList, ProposalRecord

Pid = Annotated[str, Path(pattern=r"^p\d{1,6}$", description="the proposal's id on the incident: p1, p2, …")]
CONFLICT = {409: {"description": "the proposal is not pending (expired, decided) or not undoable"}}


async def _answer(call: Awaitable[ProposalRecord], incident_id: int) -> ProposalRecord:
    try:
        return await call
    except IncidentNotFound:
        raise HTTPException(status_code=404, detail=f"incident {incident_id} not found") from None
    except ProposalNotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except ProposalConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None


def proposals_router(auth: BearerAuth) -> APIRouter:
    router = APIRouter(prefix="/incidents/{incident_id}/proposals", tags=["remediation"],
                       dependencies=[Depends(auth)])

    @router.get("", response_model=ProposalList)
    async def list_proposals(incident_id: int, remediation: RemediationDep) -> ProposalList:
        try:
            return await remediation.list(incident_id)
        except IncidentNotFound:
            raise HTTPException(status_code=404, detail=f"incident {incident_id} not found") from None

    @router.post("/{pid}/approve", response_model=ProposalRecord, responses=CONFLICT)
    async def approve(incident_id: int, pid: Pid, body: ProposalDecision, remediation: RemediationDep) -> ProposalRecord:
        """Approve a pending proposal as `by`; a runtime action is then executed (dry run unless
        REMEDIATION_EXECUTE) and the result is on the proposal and the timeline."""
        return await _answer(remediation.approve(incident_id, pid, body.who), incident_id)

    @router.post("/{pid}/reject", response_model=ProposalRecord, responses=CONFLICT)
    async def reject(incident_id: int, pid: Pid, body: ProposalDecision, remediation: RemediationDep) -> ProposalRecord:
        return await _answer(remediation.reject(incident_id, pid, body.who, body.reason), incident_id)

    @router.post("/{pid}/undo", response_model=ProposalRecord, responses=CONFLICT)
    async def undo(incident_id: int, pid: Pid, body: ProposalDecision, remediation: RemediationDep) -> ProposalRecord:
        """Restore what an executed runtime action changed, with the value read before it."""
        return await _answer(remediation.undo(incident_id, pid, body.who), incident_id)

    return router

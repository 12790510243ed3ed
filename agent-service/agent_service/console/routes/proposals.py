"""Approve, reject and undo an incident's remediation proposals from its page: the same
RemediationService calls the API and the chats make, with actor `console:<name>`. A proposal not in
a state for it (expired, decided, not undoable) is a 409 with the reason; an unknown one a 404."""

# No `from __future__ import annotations`: the dependency aliases are built inside the router
# factory, and FastAPI must see them evaluated.
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import RedirectResponse, Response

from agent_service.api.deps import RemediationDep
from agent_service.console.auth import Action, actor
from agent_service.console.config import ConsoleConfig
from agent_service.console.errors import ConsoleRefusal, refusing
from agent_service.console.roles import Role, timeline_actor
from agent_service.incidents.store import IncidentNotFound
from agent_service.remediation.lifecycle import ProposalConflict, ProposalNotFound
from agent_service.remediation.models import ProposalRecord

Pid = Annotated[str, Path(pattern=r"^p\d{1,6}$")]
MAX_REASON = 500  # ProposalDecision.reason


async def _decide(incident_id: int, call: Callable[[], Awaitable[ProposalRecord]]) -> Response:
    with (refusing({IncidentNotFound: 404}, reason=f"incident {incident_id} not found"),
          refusing({ProposalNotFound: 404, ProposalConflict: 409})):
        await call()
    return RedirectResponse(f"/console/incidents/{incident_id}#proposals-h", status_code=303)


def proposals_router(config: ConsoleConfig) -> APIRouter:
    router = APIRouter()
    Responder = Annotated[Action, Depends(actor(config, Role.responder))]

    def who(action: Action) -> str:
        return timeline_actor(action.visitor.user.name)

    @router.post("/incidents/{incident_id}/proposals/{pid}/approve", include_in_schema=False)
    async def approve(incident_id: int, pid: Pid, action: Responder, remediation: RemediationDep) -> Response:
        return await _decide(incident_id, lambda: remediation.approve(incident_id, pid, who(action)))

    @router.post("/incidents/{incident_id}/proposals/{pid}/reject", include_in_schema=False)
    async def reject(incident_id: int, pid: Pid, action: Responder, remediation: RemediationDep) -> Response:
        reason = action.form.get("reason", "").strip() or None
        if reason is not None and len(reason) > MAX_REASON:
            raise ConsoleRefusal(422, f"a reason has up to {MAX_REASON} characters")
        return await _decide(incident_id, lambda: remediation.reject(incident_id, pid, who(action), reason))

    @router.post("/incidents/{incident_id}/proposals/{pid}/undo", include_in_schema=False)
    async def undo(incident_id: int, pid: Pid, action: Responder, remediation: RemediationDep) -> Response:
        return await _decide(incident_id, lambda: remediation.undo(incident_id, pid, who(action)))

    return router

"""The incidents list, one incident (with its live timeline), and the actions on it. Every action
is the IncidentService call the API makes, with actor `console:<name>`."""

# No `from __future__ import annotations`: the dependency aliases are built inside the router
# factories, and FastAPI must see them evaluated.
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from agent_service.api.deps import IncidentsDep, WorkerDep
from agent_service.console.auth import Action, Visitor, actor, reader
from agent_service.console.errors import ConsoleRefusal, refusing
from agent_service.console.config import ConsoleConfig
from agent_service.console.render import Pages
from agent_service.console.roles import Role
from agent_service.console.roles import timeline_actor
from agent_service.console.views import incident_view, list_filters
from agent_service.incidents.ack import AckRefused
from agent_service.incidents.lifecycle import TransitionError
from agent_service.incidents.models import Incident, IncidentStatus, NoteCreate, StatusChange
from agent_service.incidents.service import IncidentService
from agent_service.incidents.store import IncidentNotFound

PAGE_SIZE = 25


@contextmanager
def _acting_on(incident_id: int) -> Iterator[None]:
    """An unknown incident is a 404; a refused ack or transition a 409 with its reason."""
    with (refusing({IncidentNotFound: 404}, reason=f"incident {incident_id} not found"),
          refusing({AckRefused: 409, TransitionError: 409})):
        yield


def _back(incident_id: int) -> Response:
    return RedirectResponse(f"/console/incidents/{incident_id}", status_code=303)


async def _incident(service: IncidentService, incident_id: int) -> Incident:
    incident = await service.store.get(incident_id)
    if incident is None:
        raise ConsoleRefusal(404, f"incident {incident_id} not found")
    return incident


def incidents_router(config: ConsoleConfig, pages: Pages) -> APIRouter:
    router = APIRouter()
    Reader = Annotated[Visitor, Depends(reader(config))]
    Responder = Annotated[Action, Depends(actor(config, Role.responder))]

    @router.get("/incidents", include_in_schema=False)
    async def incident_list(request: Request, visitor: Reader, service: IncidentsDep) -> Response:
        filters = list_filters(request.query_params)
        listing = await service.store.lists.page(status=filters.status, severity=filters.severity,
                                                 limit=PAGE_SIZE, cursor=filters.cursor)
        return pages.html("incidents.html", visitor=visitor, listing=listing, filters=filters)

    @router.get("/incidents/{incident_id}", include_in_schema=False)
    async def incident_page(incident_id: int, visitor: Reader, service: IncidentsDep) -> Response:
        view = incident_view(await _incident(service, incident_id))
        return pages.html("incident.html", visitor=visitor, view=view, incident=view.incident)

    @router.get("/incidents/{incident_id}/timeline", include_in_schema=False)
    async def timeline(incident_id: int, visitor: Reader, service: IncidentsDep) -> Response:
        incident = await _incident(service, incident_id)
        return pages.html("_timeline.html", incident=incident)

    @router.post("/incidents/{incident_id}/ack", include_in_schema=False)
    async def acknowledge(incident_id: int, action: Responder, service: IncidentsDep) -> Response:
        with _acting_on(incident_id):
            await service.acknowledge(incident_id, timeline_actor(action.visitor.user.name))
        return _back(incident_id)

    @router.post("/incidents/{incident_id}/status", include_in_schema=False)
    async def change_status(incident_id: int, action: Responder, service: IncidentsDep) -> Response:
        form = action.form
        try:
            body = StatusChange(status=IncidentStatus(form.get("status", "")),
                                actor=timeline_actor(action.visitor.user.name),
                                note=form.get("note") or None, root_cause=form.get("root_cause") or None)
        except (ValueError, ValidationError):
            raise ConsoleRefusal(422, "a status is INVESTIGATING, MITIGATED or RESOLVED; texts up to 5000 characters") from None
        with _acting_on(incident_id):
            await service.change_status(incident_id, body)
        return _back(incident_id)

    @router.post("/incidents/{incident_id}/notes", include_in_schema=False)
    async def add_note(incident_id: int, action: Responder, service: IncidentsDep) -> Response:
        try:
            body = NoteCreate(text=action.form.get("text", "").strip(), kind=action.form.get("kind") or "note",  # type: ignore[arg-type]
                              actor=timeline_actor(action.visitor.user.name))
        except ValidationError:
            raise ConsoleRefusal(422, "a note has 1 to 5000 characters") from None
        with _acting_on(incident_id):
            await service.add_note(incident_id, body)
        return _back(incident_id)

    @router.post("/incidents/{incident_id}/analyze", include_in_schema=False)
    async def reanalyze(incident_id: int, action: Responder, service: IncidentsDep, worker: WorkerDep) -> Response:
        with _acting_on(incident_id):
            await service.request_analysis(incident_id, timeline_actor(action.visitor.user.name))
        worker.spawn_drain(incident_id)
        return _back(incident_id)

    return router

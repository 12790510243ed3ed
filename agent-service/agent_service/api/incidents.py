"""Incident API: list/search, create, detail with timeline, status changes, notes, handoff,
post-mortem. Thin: each route calls IncidentService or a pure renderer."""

from __future__ import annotations

from typing import Annotated

from cachetools import TTLCache
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse

from oncall_common.security import BearerAuth
from agent_service.api.deps import AnalyzerDep, IncidentsDep, WorkerDep, slot_or_429
from agent_service.incidents.handoff import TextWriter, llm_handoff, rules_handoff
from agent_service.incidents.ack import AckRefused
from agent_service.incidents.lifecycle import TransitionError
from agent_service.incidents.listing import SearchBusy
from agent_service.incidents.models import (
    AckRequest,
    Handoff,
    Incident,
    IncidentCreate,
    IncidentList,
    IncidentSeverity,
    IncidentStatus,
    NoteCreate,
    StatusChange,
)
from agent_service.incidents.postmortem import render_postmortem
from agent_service.incidents.service import IncidentService, now_utc
from agent_service.incidents.store import IncidentNotFound

HANDOFF_CACHE = 256
HANDOFF_TTL_S = 24 * 3600  # a written handoff is kept per incident state for at most a day

Service = IncidentsDep


async def _get(service: IncidentService, incident_id: int) -> Incident:
    incident = await service.store.get(incident_id)
    if incident is None:
        raise HTTPException(status_code=404, detail=f"incident {incident_id} not found")
    return incident


def incidents_router(auth: BearerAuth, *, handoff_writer: TextWriter | None = None) -> APIRouter:
    """`handoff_writer`: the Claude engine's free-text helper (LLM_ENGINE=anthropic), else None
    and the handoff is the rules version."""
    # Every route, reads included, needs API_TOKEN when it is set: an incident carries its reports.
    router = APIRouter(prefix="/incidents", tags=["incidents"], dependencies=[Depends(auth)])
    write: list[object] = []  # the router's own dependency already covers writes

    @router.get("", response_model=IncidentList,
                responses={429: {"description": "`q=`: every search slot stayed taken (Retry-After)"}})
    async def list_incidents(
        service: Service,
        status: IncidentStatus | None = None,
        severity: IncidentSeverity | None = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        cursor: Annotated[int, Query(ge=0, le=1_000_000, description="next_cursor of the previous page")] = 0,
    ) -> IncidentList:
        """Newest first, one page of at most `limit` read from the list indexes (`next_cursor` for
        the next page, None at the end). With both filters, or `q=`, a page may hold fewer than
        `limit` while a `next_cursor` follows: the request looked at its share (2,000 index entries,
        500 searched incidents) and the next page goes on from there (incidents/listing.py).
        `q=` runs two searches at a time per process: 429 when no turn came within 10 s."""
        lists = service.store.lists
        if not q:
            return await lists.page(status=status, severity=severity, limit=limit, cursor=cursor)
        try:
            return await lists.search(q, status=status, severity=severity, limit=limit, cursor=cursor)
        except SearchBusy as exc:
            raise HTTPException(status_code=429, detail=f"too many searches: {exc}", headers={"Retry-After": "2"}) from None

    @router.post("", response_model=Incident, status_code=201, dependencies=write)
    async def create_incident(body: IncidentCreate, service: Service, worker: WorkerDep) -> Incident:
        """Open an incident by hand (source `manual`, or `analyze` with a `report` from POST /analyze).

        No analysis runs unless asked: `"analyze": true` queues one scoped by the body's `backend`/
        `frontend` over the last 15 minutes, counted against MAX_ANALYSES like an alert's. The answer
        (201) comes at once with the analysis and the `opened` notification in `pending`; both are
        carried out in the background, the email after the analysis so it carries the report
        (follow them on GET /incidents/{id}). `analyze` with `report` is refused (422).
        """
        incident = await service.create(body)
        if body.analyze:
            worker.spawn_drain(incident.id)
        return incident

    @router.get("/{incident_id}", response_model=Incident)
    async def get_incident(incident_id: int, service: Service) -> Incident:
        return await _get(service, incident_id)

    @router.post("/{incident_id}/status", response_model=Incident, dependencies=write)
    async def change_status(incident_id: int, body: StatusChange, service: Service) -> Incident:
        try:
            return await service.change_status(incident_id, body)
        except IncidentNotFound:
            raise HTTPException(status_code=404, detail=f"incident {incident_id} not found") from None
        except TransitionError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None

    @router.post("/{incident_id}/ack", response_model=Incident, dependencies=write,
                 responses={409: {"description": "the incident is RESOLVED"}})
    async def acknowledge(incident_id: int, body: AckRequest, service: Service) -> Incident:
        """`by` takes the incident. The first acknowledgement is kept (`acknowledged_by`/`_at`); a
        later one by someone else is on the timeline only; the same person again changes nothing."""
        try:
            return await service.acknowledge(incident_id, body.by)
        except IncidentNotFound:
            raise HTTPException(status_code=404, detail=f"incident {incident_id} not found") from None
        except AckRefused as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None

    @router.post("/{incident_id}/notes", response_model=Incident, status_code=201, dependencies=write)
    async def add_note(incident_id: int, body: NoteCreate, service: Service) -> Incident:
        try:
            return await service.add_note(incident_id, body)
        except IncidentNotFound:
            raise HTTPException(status_code=404, detail=f"incident {incident_id} not found") from None

    # A model-written handoff costs money: it needs API_TOKEN (when set), takes one of the
    # MAX_ANALYSES slots (429 past it) and is written once per incident state, not per request.
    handoffs: TTLCache[tuple[int, int, str], Handoff] = TTLCache(maxsize=HANDOFF_CACHE, ttl=HANDOFF_TTL_S)

    @router.get("/{incident_id}/handoff", response_model=Handoff, dependencies=write)
    async def handoff(incident_id: int, service: Service, analyzer: AnalyzerDep) -> Handoff:
        incident = await _get(service, incident_id)
        if handoff_writer is None:
            return rules_handoff(incident, now=now_utc())
        key = (incident.id, len(incident.timeline), incident.status.value)
        cached = handoffs.get(key)
        if cached is not None:
            return cached
        async with slot_or_429(analyzer):
            written = await llm_handoff(incident, handoff_writer, now=now_utc())
        if written.generated_by == "llm":  # a fallback after a model failure is retried next time
            handoffs[key] = written
        return written

    @router.get("/{incident_id}/postmortem", response_class=PlainTextResponse,
                responses={200: {"content": {"text/markdown": {}}}})
    async def postmortem(incident_id: int, service: Service) -> PlainTextResponse:
        incident = await _get(service, incident_id)
        return PlainTextResponse(render_postmortem(incident), media_type="text/markdown; charset=utf-8")

    return router

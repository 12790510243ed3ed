"""Change events: `POST /events`, `GET /events` (API_TOKEN) and the GitHub `deployment_status`
webhook `POST /integrations/github/webhook` (only when GITHUB_WEBHOOK_SECRET is set, else 404).
Thin: validation in events/models.py, signature and mapping in events/github.py, storage in
events/store.py."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from redis.exceptions import RedisError

from oncall_common.security import BearerAuth
from agent_service.api.deps import AgentDep
from agent_service.events import github
from agent_service.events.annotations import annotation_events
from agent_service.events.models import MAX_LIMIT, ChangeEvent, EventList, EventRecorded, GithubAccepted
from agent_service.events.store import EventQuery, EventStore, TooOld
from agent_service.incidents.webhook import WebhookPayload
from agent_service.models import sane_instant

log = logging.getLogger(__name__)


async def _events(agent: AgentDep) -> EventStore:
    assert agent.events is not None  # built by the lifespan
    return agent.events


EventsDep = Annotated[EventStore, Depends(_events)]
UNAVAILABLE = HTTPException(status_code=503, detail="event store unavailable", headers={"Retry-After": "5"})


def _instant(value: datetime | None, name: str) -> datetime | None:
    try:
        return None if value is None else sane_instant(value)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=f"{name}: {exc}") from None


async def _record(store: EventStore, event: ChangeEvent) -> EventRecorded:
    try:
        stored, created = await store.record(event)
    except TooOld as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except RedisError:
        raise UNAVAILABLE from None
    return EventRecorded(event=stored, created=created)


def events_router(auth: BearerAuth) -> APIRouter:
    router = APIRouter(tags=["events"], dependencies=[Depends(auth)])

    @router.post("/events", status_code=201, response_model=EventRecorded,
                 responses={200: {"model": EventRecorded, "description": "already stored under this id"}})
    async def post_event(event: ChangeEvent, store: EventsDep, response: Response) -> EventRecorded:
        """Record a change. Idempotent by `id`: the same id again answers 200 with the event stored
        first (the first one wins; nothing is duplicated or overwritten)."""
        recorded = await _record(store, event)
        if not recorded.created:
            response.status_code = 200
        return recorded

    @router.get("/events", response_model=EventList)
    async def list_events(
        store: EventsDep,
        since: datetime | None = None,
        until: datetime | None = None,
        backend: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    ) -> EventList:
        low, high = _instant(since, "since"), _instant(until, "until")
        if low and high and low > high:
            raise HTTPException(status_code=422, detail="since is after until")
        try:
            events = await store.query(EventQuery(since=low, until=high, backend=backend, limit=limit))
        except RedisError:
            raise UNAVAILABLE from None
        return EventList(events=events, count=len(events))

    return router


def github_router(secret: str) -> APIRouter:
    router = APIRouter(prefix="/integrations/github", tags=["integrations"])

    @router.post("/webhook", response_model=GithubAccepted,
                 responses={202: {"model": GithubAccepted, "description": "an event or state we ignore"},
                            401: {"description": "bad or missing X-Hub-Signature-256"}})
    async def github_webhook(
        request: Request, store: EventsDep, response: Response,
        x_hub_signature_256: Annotated[str | None, Header()] = None,
        x_github_event: Annotated[str | None, Header()] = None,
    ) -> GithubAccepted:
        """A GitHub webhook delivery, verified over the raw body. `deployment_status` with state
        `success` becomes a deploy event (mapping: events/github.py); `ping` → 200; others → 202."""
        body = await request.body()
        if len(body) > github.MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail="webhook payload too large")
        try:
            github.verify(secret, sent=x_hub_signature_256, body=body)
        except github.GithubRejected as exc:
            raise HTTPException(status_code=401, detail=str(exc)) from None
        if x_github_event == "ping":
            return GithubAccepted(status="pong")
        if x_github_event != "deployment_status":
            response.status_code = 202
            return GithubAccepted(status="ignored", reason=f"event {str(x_github_event)[:60]!r} is not recorded")
        try:
            event = github.to_event(github.parse(body), received=datetime.now(UTC))
        except github.NotADeployment as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        if event is None:
            response.status_code = 202
            return GithubAccepted(status="ignored", reason="only a deployment status of state success is a change")
        recorded = await _record(store, event)
        return GithubAccepted(status="recorded" if recorded.created else "duplicate", event_id=event.id)

    return router


async def record_annotations(store: EventStore, payload: WebhookPayload) -> int:
    """An accepted alert delivery's change annotations, as `annotation` events (never fails the page)."""
    recorded = 0
    for event in annotation_events(payload):
        try:
            _, created = await store.record(event)
        except (TooOld, RedisError) as exc:
            log.warning("alert annotation not recorded as a change event: %s", type(exc).__name__)
            continue
        recorded += created
    return recorded

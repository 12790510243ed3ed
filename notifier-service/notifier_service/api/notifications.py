"""HTTP edge: thin routes over the store (ARCHITECTURE.md, notifier-service contract)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from pydantic import BaseModel

from oncall_common.security import BearerAuth
from notifier_service.api.deps import FanoutDep, StoreDep
from notifier_service.compose import own_message_id, root_message_id
from notifier_service.metrics import Metrics
from notifier_service.models import (
    IDEMPOTENCY_KEY,
    Notification,
    NotificationList,
    NotifyAccepted,
    NotifyRequest,
    Status,
)
from notifier_service.settings import Settings


class Problem(BaseModel):
    detail: str


PROBLEM: dict[str, Any] = {"model": Problem}


def notifications_router(settings: Settings, metrics: Metrics, auth: BearerAuth) -> APIRouter:
    router = APIRouter(dependencies=[Depends(auth)])
    domain = settings.thread_domain

    @router.post(
        "/notify",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=NotifyAccepted,
        responses={200: {"model": NotifyAccepted, "description": "same idempotency key: the first notification"}},
    )
    async def notify(
        body: NotifyRequest,
        store: StoreDep,
        lanes: FanoutDep,
        response: Response,
        idempotency_header: Annotated[
            str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY.pattern, description="or the body's idempotency_key")
        ] = None,
    ) -> NotifyAccepted:
        key = body.idempotency_key or idempotency_header
        recipients = settings.recipients_for(body.severity)
        seen = {a.lower() for a in recipients}
        recipients += [a for a in body.to if a.lower() not in seen]
        payload = body.model_dump(exclude={"idempotency_key", "acknowledged_by", "acknowledged_at"})
        payload.update(to=recipients, url=body.url or "", **body.acknowledgement_fields())
        result = await lanes.enqueue(
            payload,
            idempotency_key=key,
            root_message_id=root_message_id(body.incident_id, domain),
            message_id_for=lambda ident: own_message_id(ident, body.incident_id, domain),
        )
        if not result.created:
            response.status_code = status.HTTP_200_OK
            current = await store.get(result.id)
            return NotifyAccepted(id=result.id, status=current.status if current else "queued")
        metrics.queued.labels(body.event).inc()
        if result.coalesced_into:
            metrics.coalesced.inc()
        return NotifyAccepted(id=result.id, status="queued")

    @router.get("/notifications", response_model=NotificationList)
    async def list_notifications(
        store: StoreDep,
        status_filter: Annotated[Status | None, Query(alias="status")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> NotificationList:
        items = await store.list(status=status_filter, limit=limit)
        return NotificationList(notifications=items, count=len(items))

    @router.get("/notifications/{notification_id}", response_model=Notification, responses={404: PROBLEM})
    async def get_notification(notification_id: str, lanes: FanoutDep) -> Notification:
        view = await lanes.get(_checked_id(notification_id))
        if view is None:
            raise HTTPException(404, "no such notification")
        return view

    @router.post(
        "/notifications/{notification_id}/retry", status_code=202, response_model=NotifyAccepted,
        responses={404: PROBLEM, 409: PROBLEM},
    )
    async def retry(notification_id: str, store: StoreDep, lanes: FanoutDep) -> NotifyAccepted:
        """Send a failed notification (a dead letter) again, with a fresh set of attempts, on every
        channel where it failed."""
        ident = _checked_id(notification_id)
        view = await store.get(ident)
        if view is None:
            raise HTTPException(404, "no such notification")
        if view.coalesced_into:
            raise HTTPException(409, f"this update was sent inside notification {view.coalesced_into}; retry that one")
        retried = await lanes.retry(ident)
        if not retried:
            raise HTTPException(409, f"only failed notifications can be re-sent; this one is {view.status}")
        metrics.queued.labels(view.event).inc()
        current = await store.get(ident)
        return NotifyAccepted(id=ident, status=current.status if current else "queued")

    return router


def _checked_id(value: str) -> str:
    if not (0 < len(value) <= 64 and value.isalnum()):
        raise HTTPException(404, "no such notification")
    return value


"""POST /alerts: the Alertmanager webhook (v4, and Grafana's compatible one). Thin: read the body
within its cap, validate, hand to the intake, answer 202.

Alertmanager does not retry a 4xx, so only what cannot be an alert is refused (422 with the
reason; 413 past ALERTS_MAX_BODY_BYTES); 503 when Redis cannot take the delivery (retried)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from oncall_common.request_id import current_request_id
from oncall_common.security import BearerAuth
from agent_service.api.deps import IntakeDep, WatchdogDep
from agent_service.api.events import EventsDep, record_annotations
from agent_service.incidents.lifecycle import now_utc
from agent_service.incidents.metrics import IncidentMetrics
from agent_service.incidents.watchdog import is_heartbeat
from agent_service.incidents.webhook import AlertsAccepted, WebhookPayload


async def _bounded_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"an alert delivery is at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"an alert delivery is at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def parse_delivery(raw: bytes) -> WebhookPayload:
    """The delivery, or ValidationError. JSON that only a strict parser refuses (a lone surrogate
    escape such as \\ud800 in a label) is still a page: read it with U+FFFD in place."""
    try:
        return WebhookPayload.model_validate_json(raw)
    except ValidationError as exc:
        if not any(e["type"] == "json_invalid" for e in exc.errors()):
            raise
        try:
            data = json.loads(raw.decode("utf-8", errors="replace"))
        except ValueError:
            raise exc from None
        return WebhookPayload.model_validate(_without_lone_surrogates(data))


def alerts_router(auth: BearerAuth, metrics: IncidentMetrics, *, max_body_bytes: int = 4 * 1024 * 1024) -> APIRouter:
    router = APIRouter(tags=["alerts"])

    @router.post("/alerts", status_code=202, response_model=AlertsAccepted, dependencies=[Depends(auth)],
                 openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                     "schema": WebhookPayload.model_json_schema(by_alias=True)}}}})
    async def receive_alerts(request: Request, intake: IntakeDep, watchdog: WatchdogDep,
                             events: EventsDep) -> AlertsAccepted:
        raw = await _bounded_body(request, max_body_bytes)
        try:
            body = parse_delivery(raw)
        except ValidationError as exc:
            metrics.received("unknown", "invalid")
            raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
        if is_heartbeat(body, watchdog.alertname):
            await watchdog.heard(now_utc())
            metrics.received(body.delivery_status, "heartbeat")
            return AlertsAccepted(incident_ids=[], duplicate=False)
        result = await intake.accept(body, request_id=current_request_id() or "")
        metrics.received(body.delivery_status, "duplicate" if result.duplicate else "accepted")
        if not result.duplicate:
            await record_annotations(events, body)  # `deploy_version` / `change`: data, never a command
        return AlertsAccepted(incident_ids=result.incident_ids, duplicate=result.duplicate)

    return router

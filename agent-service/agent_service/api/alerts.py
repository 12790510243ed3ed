"""POST /alerts: the Alertmanager webhook (v4). Thin: validate, hand to the intake, answer 202.

422 for a payload that is not a v4 webhook (Alertmanager does not retry 4xx); 503 when Redis
cannot take the delivery (Alertmanager retries 5xx)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from oncall_common.request_id import current_request_id
from oncall_common.security import BearerAuth
from agent_service.api.deps import IntakeDep
from agent_service.incidents.metrics import IncidentMetrics
from agent_service.incidents.webhook import AlertsAccepted, WebhookPayload


def alerts_router(auth: BearerAuth, metrics: IncidentMetrics) -> APIRouter:
    router = APIRouter(tags=["alerts"])

    @router.post("/alerts", status_code=202, response_model=AlertsAccepted, dependencies=[Depends(auth)],
                 openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                     "schema": WebhookPayload.model_json_schema(by_alias=True)}}}})
    async def receive_alerts(request: Request, intake: IntakeDep) -> AlertsAccepted:
        try:
            body = WebhookPayload.model_validate_json(await request.body())
        except ValidationError as exc:
            metrics.received("unknown", "invalid")
            raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
        result = await intake.accept(body, request_id=current_request_id() or "")
        metrics.received(body.status, "duplicate" if result.duplicate else "accepted")
        return AlertsAccepted(incident_ids=result.incident_ids, duplicate=result.duplicate)

    return router

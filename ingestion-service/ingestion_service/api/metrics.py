"""GET /metrics/*: validate window/end/filters, then call queries.signals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator

from oncall_common.security import BearerAuth
from ingestion_service.api import models
from ingestion_service.api.deps import RedisDep
from ingestion_service.haproxy.fields import frontend_name
from ingestion_service.queries import breakdown as queries_breakdown
from ingestion_service.queries import signals
from ingestion_service.queries.window import Window, parse_end, parse_window, window_from
from ingestion_service.signals.aggregate import BACKEND, FRONTEND

WindowQ = Annotated[str, Query(description="1m..24h", max_length=10)]
EndQ = Annotated[str | None, Query(description="RFC 3339, default now", max_length=64)]
# A name as HAProxy logs it (`fe_https~` for an SSL frontend) finds what it stored (`fe_https`).
NameQ = Annotated[str | None, Query(max_length=256), AfterValidator(lambda v: frontend_name(v) if v else v)]


def metrics_router(auth: BearerAuth) -> APIRouter:
    router = APIRouter(prefix="/metrics", dependencies=[Depends(auth)])

    def scope(backend: str | None, frontend: str | None) -> tuple[str, str]:
        return signals.scope_for(backend, frontend)

    @router.get("/overview", response_model=models.Overview)
    async def overview(redis: RedisDep, window: WindowQ = "5m", end: EndQ = None,
                       backend: NameQ = None, frontend: NameQ = None) -> dict[str, Any]:
        return await signals.overview(redis, window_from(window, end), scope(backend, frontend))

    @router.get("/status-codes", response_model=models.StatusCodes)
    async def status_codes(redis: RedisDep, window: WindowQ = "5m", end: EndQ = None,
                           backend: NameQ = None, frontend: NameQ = None) -> dict[str, Any]:
        return await signals.status_codes(redis, window_from(window, end), scope(backend, frontend))

    @router.get("/termination-states", response_model=models.TerminationStates)
    async def termination_states(redis: RedisDep, window: WindowQ = "5m", end: EndQ = None,
                                 backend: NameQ = None, frontend: NameQ = None) -> dict[str, Any]:
        return await signals.termination_states(redis, window_from(window, end),
                                                 scope(backend, frontend))

    @router.get("/response-times", response_model=models.ResponseTimes)
    async def response_times(redis: RedisDep, window: WindowQ = "5m", end: EndQ = None,
                             backend: NameQ = None, frontend: NameQ = None) -> dict[str, Any]:
        return await signals.response_times(redis, window_from(window, end),
                                            scope(backend, frontend))

    @router.get("/rps", response_model=models.RpsSeries)
    async def rps(redis: RedisDep, window: WindowQ = "5m", end: EndQ = None,
                  minutes: Annotated[int | None, Query(ge=1, le=1440)] = None,
                  backend: NameQ = None, frontend: NameQ = None) -> dict[str, Any]:
        w = window_from(window, end)
        if minutes is not None:
            w = Window(minutes, w.end)
        return await signals.rps_series(redis, w, scope(backend, frontend))

    @router.get("/backends", response_model=models.Backends)
    async def backends(redis: RedisDep, window: WindowQ = "5m", end: EndQ = None,
                       backend: NameQ = None, frontend: NameQ = None) -> dict[str, Any]:
        w = window_from(window, end)
        if frontend:
            rows = await signals.by_pair(redis, w, BACKEND, backend, frontend)
        else:
            rows = await signals.by_name(redis, w, BACKEND, backend)
        return {"window_seconds": w.seconds, "backends": rows}

    @router.get("/frontends", response_model=models.Frontends)
    async def frontends(redis: RedisDep, window: WindowQ = "5m", end: EndQ = None,
                        backend: NameQ = None, frontend: NameQ = None) -> dict[str, Any]:
        w = window_from(window, end)
        if backend:
            rows = await signals.by_pair(redis, w, FRONTEND, frontend, backend)
        else:
            rows = await signals.by_name(redis, w, FRONTEND, frontend)
        return {"window_seconds": w.seconds, "frontends": rows}

    @router.get("/breakdown", response_model=models.Breakdown)
    async def breakdown(redis: RedisDep, window: WindowQ = "15m", end: EndQ = None,
                        baseline: Annotated[str, Query(description="1m..24h", max_length=10)] = "60m",
                        baseline_end: Annotated[str | None, Query(description="RFC 3339, default the window's start",
                                                                  max_length=64)] = None,
                        backend: NameQ = None, frontend: NameQ = None) -> dict[str, Any]:
        w = window_from(window, end)
        minutes = parse_window(baseline, param="baseline")
        b_end = w.start if baseline_end is None else parse_end(baseline_end, param="baseline_end")
        return await queries_breakdown.breakdown(redis, w, Window(minutes, b_end), backend=backend,
                                                 frontend=frontend)

    @router.get("/saturation", response_model=models.Saturation)
    async def saturation(redis: RedisDep, window: WindowQ = "5m", end: EndQ = None,
                         backend: NameQ = None, frontend: NameQ = None) -> dict[str, Any]:
        return await signals.saturation(redis, window_from(window, end), scope(backend, frontend))

    return router

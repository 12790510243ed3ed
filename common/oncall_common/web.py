"""The common shape of every service's FastAPI app: middleware, metrics, error handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import redis.exceptions
from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oncall_common.request_id import RequestIdMiddleware, current_request_id
from oncall_common.security import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from oncall_common.settings import ServiceSettings
from oncall_common.telemetry import trace_app

log = logging.getLogger(__name__)

METRICS_PATH = "/prometheus/metrics"

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def create_base_app(
    settings: ServiceSettings,
    *,
    service: str,
    registry: CollectorRegistry,
    lifespan: Lifespan | None = None,
    version: str = "0.1.0",
    tracer_provider: TracerProvider | None = None,
    metrics_auth: Callable[..., Any] | None = None,
) -> FastAPI:
    """A FastAPI app with the cross-cutting pieces every service shares.

    The caller owns `registry` (one per app, never the global one) and adds its own metrics to it.
    Spans go to `tracer_provider`, else to the process-wide one (`telemetry.setup_tracing`).
    `metrics_auth` (e.g. a BearerAuth) guards `/prometheus/metrics`; without it the page is open.
    """
    docs = settings.docs_enabled
    app = FastAPI(
        title=service,
        version=version,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    Instrumentator(
        registry=registry,
        should_group_status_codes=False,
        excluded_handlers=[METRICS_PATH, "/health", "/health/ready"],
    ).instrument(app).expose(app, endpoint=METRICS_PATH, include_in_schema=False,
                             dependencies=[Depends(metrics_auth)] if metrics_auth else None)
    install_error_handlers(app)
    # Order: the last added runs first. Request id outermost of these so every log line has it.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(UnhandledErrorMiddleware)  # outside the body limit: its 413 is not a 500
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestIdMiddleware)
    trace_app(app, tracer_provider=tracer_provider)  # outermost: the span covers every middleware

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def install_error_handlers(app: FastAPI) -> None:
    """Redis unavailable or full → 503 with Retry-After: the client should retry."""

    @app.exception_handler(redis.exceptions.ConnectionError)
    @app.exception_handler(redis.exceptions.TimeoutError)
    async def redis_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("redis unavailable: %s", exc)
        return JSONResponse(
            {"detail": "storage unavailable, retry later"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(redis.exceptions.OutOfMemoryError)
    async def redis_full(request: Request, exc: Exception) -> JSONResponse:
        log.error("redis is at maxmemory: %s", exc)
        return JSONResponse(
            {"detail": "storage full (redis maxmemory reached), retry later"},
            status_code=503,
            headers={"Retry-After": "5"},
        )


class UnhandledErrorMiddleware:
    """A bug answers a JSON 500 carrying the request id (inside the request-id context)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = JSONResponse(
                {"detail": "internal error", "request_id": current_request_id()}, status_code=500
            )
            await response(scope, receive, send)

"""Wiring of alert intake and incidents into the agent-service app: routers, app.state, and the
background worker started/stopped around the app's own lifespan (one call in create_app)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from oncall_common.security import BearerAuth
from agent_service.alerts.intake import AlertIntake
from agent_service.alerts.worker import AlertWorker, WorkerConfig
from agent_service.api.alerts import alerts_router
from agent_service.api.incidents import incidents_router
from agent_service.incidents.handoff import TextWriter
from agent_service.incidents.impact import BadThresholds
from agent_service.incidents.memory import IncidentMemory
from agent_service.incidents.metrics import IncidentMetrics
from agent_service.incidents.notify_retry import RetryPolicy
from agent_service.incidents.service import IncidentService, ServiceConfig
from agent_service.incidents.store import IncidentStore
from agent_service.incidents.watchdog import Watchdog
from agent_service.notifier_client import NotifierClient

log = logging.getLogger(__name__)


def _handoff_writer(settings: Any) -> Callable[[FastAPI], TextWriter | None]:
    """The Claude engine's free-text helper when the engine is anthropic, else None (rules)."""

    def find(app: FastAPI) -> TextWriter | None:
        kind = settings.engine_kind() if hasattr(settings, "engine_kind") else "rules"
        if kind != "anthropic":
            return None
        for name in ("llm_writer", "engine"):
            candidate = getattr(app.state, name, None)
            if candidate is not None and callable(getattr(candidate, "write", None)):
                return candidate  # type: ignore[no-any-return]
        return None

    return find


def service_config(settings: Any) -> ServiceConfig:
    return ServiceConfig(
        public_url=settings.public_url,
        analysis_timeout_s=settings.incident_analysis_timeout_s,
        analysis_slot_wait_s=getattr(settings, "incident_analysis_slot_wait_s", 60.0),
        ingestion_url=settings.ingestion_url,
        ingestion_timeout_s=getattr(settings, "ingestion_timeout_s", 5.0),
        bad_minute=BadThresholds(
            error_5xx_pct=getattr(settings, "error_5xx_warning_pct", 5.0),
            p95_ms=getattr(settings, "latency_p95_warning_ms", 500.0),
            min_requests=1,
        ),
        quiet_minutes=settings.auto_resolve_quiet_minutes,
        notify_retry=RetryPolicy(
            base_s=getattr(settings, "notify_retry_base_s", 5.0),
            max_s=getattr(settings, "notify_retry_max_s", 300.0),
            give_up_s=getattr(settings, "notify_give_up_s", 6 * 3600.0),
        ),
    )


def install_incidents(
    app: FastAPI,
    settings: Any,
    *,
    registry: CollectorRegistry,
    notifier_transport: httpx.AsyncBaseTransport | None = None,
) -> IncidentMemory:
    """Add POST /alerts and /incidents, put `incident_memory` on app.state at once (for the
    Analyzer's `search_past_incidents` tool and `similar_incidents` hook), and run the alert worker
    inside the app's lifespan (after the app's own start-up has opened `app.state.redis`)."""
    metrics = IncidentMetrics(registry)
    memory = IncidentMemory(lambda: IncidentStore(app.state.redis))
    app.state.incident_memory = memory
    if getattr(app.state, "analyzer", None) is not None:
        memory.attach(app.state.analyzer)
    app.include_router(alerts_router(BearerAuth(settings.alerts_token, name="ALERTS_TOKEN"), metrics,
                                     max_body_bytes=settings.alerts_max_body_bytes))
    app.include_router(incidents_router(BearerAuth(settings.api_token, name="API_TOKEN"),
                                        handoff_writer=_handoff_writer(settings)))
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(the_app: FastAPI) -> AsyncIterator[Any]:
        async with inner(the_app) as state:
            redis = the_app.state.redis
            notifier = NotifierClient(settings.notifier_url, token=settings.notifier_token,
                                      timeout_s=settings.notifier_timeout_s, transport=notifier_transport,
                                      attempts=getattr(settings, "notifier_attempts", 3)) \
                if settings.notifier_url else None
            service = IncidentService(redis, notifier=notifier, analyzer=lambda: getattr(the_app.state, "analyzer", None),
                                      metrics=metrics, config=service_config(settings))
            the_app.state.incidents = service
            the_app.state.alert_intake = AlertIntake(redis, dedup_ttl_s=settings.alert_dedup_ttl_s)
            watchdog = Watchdog(redis, service=service, alertname=settings.watchdog_alertname,
                                timeout_s=settings.watchdog_timeout_s)
            the_app.state.watchdog = watchdog
            worker = AlertWorker(redis, service, metrics, watchdog=watchdog, config=WorkerConfig(
                claim_idle_ms=int(settings.alert_claim_idle_s * 1000)))
            the_app.state.alert_worker = worker
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop), name="alert-worker") if settings.alert_worker_enabled else None
            try:
                yield state
            finally:
                if task is not None:
                    # A cancelled blocking XREADGROUP can hang redis-py: ask the loop to stop first;
                    # an entry being processed is left pending and re-claimed by the next worker.
                    stop.set()
                    try:
                        await asyncio.wait_for(asyncio.shield(task), worker.config.block_ms / 1000 + 5)
                    except TimeoutError:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                await worker.close()
                if notifier is not None:
                    await notifier.aclose()

    app.router.lifespan_context = lifespan
    return memory

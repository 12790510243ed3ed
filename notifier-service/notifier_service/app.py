from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from oncall_common.health import ready_router
from oncall_common.security import BearerAuth
from oncall_common.web import create_base_app
from notifier_service.api.deps import redis_client
from notifier_service.api.notifications import notifications_router
from notifier_service.compose import EmailComposer
from notifier_service.lanes import Fanout, build_lanes
from notifier_service.metrics import Metrics
from notifier_service.settings import Settings
from notifier_service.worker import Worker


def create_app(settings: Settings, *, redis: aioredis.Redis | None = None) -> FastAPI:
    # httpx logs every request's URL at INFO; chat webhook and bot URLs carry their secret.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    composer = EmailComposer(sender=settings.email_from, coalesce_interval=settings.coalesce_interval_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis or aioredis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=5, health_check_interval=30
        )
        lanes = build_lanes(settings, client, composer)
        fanout = Fanout(settings, lanes)
        app.state.redis, app.state.store, app.state.fanout = client, fanout.email, fanout  # read by api/deps.py
        workers = [Worker(lane=lane, settings=settings, metrics=metrics.lane(lane.name)) for lane in lanes]
        if settings.worker_enabled:
            for worker in workers:
                await worker.start()
        try:
            yield
        finally:
            if settings.worker_enabled:
                await asyncio.gather(*(worker.stop() for worker in workers))
            if redis is None:
                await client.aclose()

    app = create_base_app(settings, service="notifier-service", registry=registry, lifespan=lifespan)
    app.include_router(ready_router(redis_client))
    auth = BearerAuth(settings.notifier_token, name="NOTIFIER_TOKEN")
    app.include_router(notifications_router(settings, metrics, auth))
    return app

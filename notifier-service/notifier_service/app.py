from __future__ import annotations

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
from notifier_service.metrics import Metrics
from notifier_service.settings import Settings
from notifier_service.store import NotificationStore
from notifier_service.worker import Worker


def create_app(settings: Settings, *, redis: aioredis.Redis | None = None) -> FastAPI:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    composer = EmailComposer(sender=settings.email_from, coalesce_interval=settings.coalesce_interval_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis or aioredis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=5, health_check_interval=30
        )
        store = NotificationStore(client, prefix=settings.redis_prefix)
        app.state.redis, app.state.store = client, store  # read by api/deps.py
        worker = Worker(store=store, settings=settings, composer=composer, metrics=metrics)
        if settings.worker_enabled:
            await worker.start()
        try:
            yield
        finally:
            if settings.worker_enabled:
                await worker.stop()
            if redis is None:
                await client.aclose()

    app = create_base_app(settings, service="notifier-service", registry=registry, lifespan=lifespan)
    app.include_router(ready_router(redis_client))
    auth = BearerAuth(settings.notifier_token, name="NOTIFIER_TOKEN")
    app.include_router(notifications_router(settings, metrics, auth))
    return app

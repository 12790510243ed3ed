from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from oncall_common.web import create_base_app
from agent_service.settings import Settings


def create_app(settings: Settings, *, redis: aioredis.Redis | None = None) -> FastAPI:
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis or aioredis.Redis.from_url(settings.redis_url)
        app.state.redis = client
        try:
            yield
        finally:
            if redis is None:
                await client.aclose()

    app = create_base_app(settings, service="agent-service", registry=registry, lifespan=lifespan)

    @app.get("/health/ready", include_in_schema=False)
    async def ready() -> dict[str, str]:
        await app.state.redis.ping()
        return {"status": "ready"}

    return app

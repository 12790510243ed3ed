"""GET /health/ready: the service answers only while its Redis does (503 otherwise, by the
common error handlers)."""

# No `from __future__ import annotations`: FastAPI must see the closure's `Depends(redis)`.
from collections.abc import Callable
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends


def ready_router(redis: Callable[..., aioredis.Redis]) -> APIRouter:
    """`redis` is the service's dependency that gives its client (see each service's `api/deps.py`)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/health/ready")
    async def ready(client: Annotated[aioredis.Redis, Depends(redis)]) -> dict[str, str]:
        await client.ping()
        return {"status": "ready"}

    return router

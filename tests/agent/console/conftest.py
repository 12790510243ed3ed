from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from agent_service.console.users import UserStore


@pytest.fixture
async def users(redis_url: str) -> AsyncIterator[UserStore]:
    """The console's users on the test's (flushed) real redis-server."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield UserStore(client)
    finally:
        await client.aclose()

"""The agent keeps its state on a standalone Redis (docs/cluster.md): a cluster URL is refused at
start with the reason, a standalone one is opened."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from agent_service.state_redis import ClusterNotSupported, open_state_redis


def test_a_cluster_url_is_refused_with_the_reason() -> None:
    with pytest.raises(ClusterNotSupported, match="standalone Redis"):
        open_state_redis("redis+cluster://127.0.0.1:7000,127.0.0.1:7001")


async def test_a_standalone_url_opens_a_plain_client() -> None:
    client = open_state_redis("redis://127.0.0.1:6390/2")
    try:
        assert type(client) is aioredis.Redis
        assert client.connection_pool.connection_kwargs["db"] == 2
    finally:
        await client.aclose()

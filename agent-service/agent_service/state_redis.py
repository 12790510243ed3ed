"""The agent's Redis: its state (incidents and their indexes, the alert stream and its consumer
group, locks, reports, events) stays on one standalone Redis, `redis-state`, even when ingestion
runs on a Redis Cluster. Its Lua scripts and MULTI/EXEC blocks span many keys of one incident
and the global indexes (`incidents:by_*`, the alert stream), which no single hash tag could keep
in one slot; see docs/cluster.md. The agent reads ingestion's signals over HTTP, so the cluster
is never its concern."""

from __future__ import annotations

import redis.asyncio as aioredis

from oncall_common.redis_target import cluster_target


class ClusterNotSupported(ValueError):
    pass


def open_state_redis(redis_url: str) -> aioredis.Redis:
    if cluster_target(None, redis_url) is not None:
        raise ClusterNotSupported(
            "agent-service keeps its state on a standalone Redis (docs/cluster.md): set REDIS_URL to "
            "redis://host:port/db of the redis-state server, not a redis+cluster:// URL")
    return aioredis.Redis.from_url(redis_url)

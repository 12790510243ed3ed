"""The store's Redis client: standalone (`REDIS_URL`) or Redis Cluster (`REDIS_CLUSTER_URLS`, or a
`redis+cluster://` URL), and the few calls whose shape differs between them."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from oncall_common.redis_target import ClusterTarget, cluster_target

Store = aioredis.Redis | RedisCluster
# INFO fields that add up over the cluster's masters (the rest are per server: the largest is kept)
_SUMMED = ("used_memory", "maxmemory", "connected_clients", "blocked_clients", "rejected_connections",
           "evicted_keys")


def is_cluster(redis: Store) -> bool:
    return isinstance(redis, RedisCluster)


def open_cluster(target: ClusterTarget, *, timeout_s: float, retries: int | None = None) -> RedisCluster:
    """`retries=0` for the writer: a batch is retried by its client with its Idempotency-Key, never
    re-sent by the library (a re-sent WAIT would land on a fresh connection and prove nothing)."""
    extra: dict[str, Any] = {} if retries is None else {"retry": Retry(NoBackoff(), retries)}
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
        password=target.password, username=target.username,
        socket_timeout=timeout_s, socket_connect_timeout=timeout_s, health_check_interval=10, **extra)


def open_store(*, redis_url: str, cluster_urls: str | None, timeout_s: float,
               writer: bool = False) -> Store:
    """`writer=True`: a client that never re-sends a command (the batches' WAIT, store/waited.py)."""
    target = cluster_target(cluster_urls, redis_url)
    if target is None:
        extra: dict[str, Any] = {"retry": AsyncRetry(NoBackoff(), 0)} if writer else {}
        return aioredis.Redis.from_url(redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                       health_check_interval=10, **extra)
    return open_cluster(target, timeout_s=timeout_s, retries=0 if writer else None)


async def server_info(redis: Store, section: str | None = None) -> dict[str, Any]:
    """INFO; on a cluster the masters' counters summed (memory, clients, evictions)."""
    if not is_cluster(redis):
        return dict(await redis.info(section) if section else await redis.info())
    per_node = await redis.info(section, target_nodes=RedisCluster.PRIMARIES) if section else \
        await redis.info(target_nodes=RedisCluster.PRIMARIES)
    infos = list(per_node.values()) if isinstance(per_node, dict) and all(
        isinstance(v, dict) for v in per_node.values()) else [per_node]
    out: dict[str, Any] = dict(infos[0]) if infos else {}
    for name in _SUMMED:
        values = [int(i.get(name, 0)) for i in infos]
        out[name] = sum(values)
    return out

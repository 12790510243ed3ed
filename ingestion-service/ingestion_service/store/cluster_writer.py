"""A batch on Redis Cluster. No transaction spans slots, so each scope-minute (one hash tag, so one
slot) is one atomic WRITE_SCOPE call in its slot; with an Idempotency-Key the call is guarded by
the scope-minute's batch record (keys.batch_record_key), so a batch retried after a failure
part-way counts only the slots that did not make it. The calls go out in one cluster pipeline (one
connection per master, masters in parallel); with REDIS_WAIT_REPLICAS each master touched is
then sent `WAIT n timeout` on the same connection, after that batch's calls.

The batch is acknowledged only when every call and every WAIT succeeded; otherwise it is
answered 503 (ClusterUnavailable, a redis ConnectionError, so the shared handlers map it) and
the client retries it with the same key. The library never re-sends a write (the writer's
client has no retries, store/client.py): a WAIT re-sent on a fresh connection would prove nothing.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import redis.exceptions as rex
from redis.asyncio.cluster import ClusterNode, RedisCluster

from ingestion_service.signals.aggregate import BatchDeltas
from ingestion_service.store import keys
from ingestion_service.store.durability import ClusterUnavailable, Durability, ReplicasUnavailable
from ingestion_service.store.scripts import WRITE_SCOPE
from ingestion_service.store.writer import scope_call

# What a cluster in motion answers (failover, resharding, a master gone): worth a retry by the client
_IN_MOTION = (rex.ConnectionError, rex.TimeoutError, rex.ClusterError, rex.RedisClusterException,
              rex.AskError, rex.TryAgainError, rex.ReadOnlyError)


async def write_batch_cluster(
    redis: RedisCluster, deltas: BatchDeltas, *, names: dict[str, set[str]], ttl: int,
    result: dict[str, Any], idempotency_key: str | None = None, durability: Durability = Durability(),
) -> dict[str, Any] | None:
    """Returns the first answer when the batch was already acknowledged, else None."""
    answer_key = keys.idempotency_key(idempotency_key) if idempotency_key is not None else None
    try:
        if answer_key is not None:
            previous = await redis.get(answer_key)
            if previous is not None:
                return dict(json.loads(previous))
        await _write_slots(redis, deltas, names=names, ttl=ttl, durability=durability,
                           batch=keys.batch_id(idempotency_key) if idempotency_key is not None else None)
        if answer_key is not None:  # lost in a failover: the retry finds every slot's record instead
            await redis.set(answer_key, json.dumps(result), ex=ttl)
    except ReplicasUnavailable:
        raise
    except _IN_MOTION as exc:
        await _refresh(redis)
        raise ClusterUnavailable(f"redis cluster write failed part-way: {exc}") from exc
    return None


async def _write_slots(redis: RedisCluster, deltas: BatchDeltas, *, names: dict[str, set[str]], ttl: int,
                       durability: Durability, batch: str | None) -> None:
    await redis.initialize()  # no-op once the slots are known
    touched: dict[str, ClusterNode] = {}

    def node_of(key: str) -> ClusterNode:
        node = redis.get_node_from_key(key)
        touched[node.name] = node
        return node

    pipe = redis.pipeline()
    for (kind, name, minute), delta in deltas.scopes.items():
        key_list, argv = scope_call(kind, name, minute, delta, ttl)
        if batch is not None:
            key_list.append(keys.batch_record_key(kind, name, minute // 60))
            argv.append(batch)
        pipe.execute_command("EVAL", WRITE_SCOPE, len(key_list), *key_list, *argv,
                             target_nodes=node_of(key_list[0]))
    for kind, members in names.items():
        if members:
            key = keys.names_key(kind)
            pipe.execute_command("SADD", key, *sorted(members), target_nodes=node_of(key))
            pipe.execute_command("EXPIRE", key, ttl, target_nodes=node_of(key))
    waits = list(touched.values()) if durability.replicas > 0 else []
    for node in waits:
        pipe.execute_command(*durability.wait_command(), target_nodes=node)
    results = await pipe.execute(raise_on_error=False, allow_redirections=False)
    for outcome in results:
        if isinstance(outcome, Exception):
            raise outcome
    acked = results[len(results) - len(waits):] if waits else []
    durability.check((node.name, int(n)) for node, n in zip(waits, acked))


async def _refresh(redis: RedisCluster) -> None:
    """Learn the slots again (a replica promoted, a slot moved) before the client's retry."""
    with contextlib.suppress(rex.RedisError, rex.RedisClusterException, OSError):
        await redis.nodes_manager.initialize()

"""One batch → one MULTI/EXEC round trip (one script call per scope-minute, all or nothing).
With REDIS_WAIT_REPLICAS=n the batch and its `WAIT` go on one connection instead (store/waited.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import redis.asyncio as aioredis

from ingestion_service.signals.aggregate import BatchDeltas, ScopeDelta
from ingestion_service.sketch import ZERO_KEY
from ingestion_service.store import keys, waited
from ingestion_service.store.durability import Durability
from ingestion_service.store.scripts import WRITE_SCOPE


def _packed(pairs: dict[str, int] | list[Any]) -> str:
    flat = [x for kv in pairs.items() for x in kv] if isinstance(pairs, dict) else pairs
    return " ".join(map(str, flat))


def scope_call(kind: str, name: str, minute_epoch: int, delta: ScopeDelta, ttl: int) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of WRITE_SCOPE for one scope-minute (field names never contain spaces)."""
    prefix = keys.scope_prefix(kind, name, minute_epoch // 60)
    sums = dict(delta.sums)
    chunks: dict[int, list[Any]] = defaultdict(list)
    for k, c in delta.buckets.items():
        if k == ZERO_KEY:
            sums["hz"] = sums.get("hz", 0) + c
        else:
            chunks[keys.chunk_of(k)].extend((k, c))
    tr = [x for k, c in delta.tr_buckets.items() for x in (keys.packed_index(k), c)]
    argv: list[Any] = [ttl, _packed(sums), _packed({"x:" + f: v for f, v in delta.maxima.items()}), _packed(tr)]
    key_list = [prefix + ":c", prefix + ":r"]
    for chunk, pairs in chunks.items():
        key_list.append(f"{prefix}:h{chunk}")
        argv += (chunk, _packed(pairs))
    return key_list, argv


def batch_commands(deltas: BatchDeltas, names: dict[str, set[str]], ttl: int) -> list[tuple[Any, ...]]:
    """The batch's writes, in order: a WRITE_SCOPE call per scope-minute, then the name sets."""
    out: list[tuple[Any, ...]] = []
    for (kind, name, minute), delta in deltas.scopes.items():
        key_list, argv = scope_call(kind, name, minute, delta, ttl)
        out.append(("EVAL", WRITE_SCOPE, len(key_list), *key_list, *argv))
    for kind, members in names.items():
        if members:
            out.append(("SADD", keys.names_key(kind), *members))
            out.append(("EXPIRE", keys.names_key(kind), ttl))
    return out


def _queue_batch(pipe: Any, deltas: BatchDeltas, names: dict[str, set[str]], ttl: int) -> None:
    for command in batch_commands(deltas, names, ttl):
        pipe.execute_command(*command)


async def write_batch(
    redis: aioredis.Redis,
    deltas: BatchDeltas,
    *,
    names: dict[str, set[str]],
    ttl: int,
    result: dict[str, Any],
    idempotency_key: str | None = None,
    durability: Durability = Durability(),
) -> dict[str, Any] | None:
    """Write atomically. With an idempotency key the key is stored in the same transaction;
    returns the first answer when that key was already written (nothing counted twice), else None.
    """
    if durability.replicas > 0:
        return await waited.write_batch_waited(redis, batch_commands(deltas, names, ttl), ttl=ttl, result=result,
                                               idempotency_key=idempotency_key, durability=durability)
    if idempotency_key is None:
        async with redis.pipeline(transaction=True) as pipe:
            _queue_batch(pipe, deltas, names, ttl)
            await pipe.execute()
        return None
    idem = keys.idempotency_key(idempotency_key)

    async def once(pipe: Any) -> dict[str, Any] | None:
        previous = await pipe.get(idem)  # WATCHed: immediate, before MULTI
        if previous is not None:
            await pipe.unwatch()
            return dict(json.loads(previous))
        pipe.multi()
        _queue_batch(pipe, deltas, names, ttl)
        pipe.set(idem, json.dumps(result), ex=ttl)
        return None

    # redis-py retries `once` on WatchError without a bound. That ends here: the only write to
    # `idem` is another replica committing the same batch, so the next attempt reads its answer.
    answer: dict[str, Any] | None = await redis.transaction(once, idem, value_from_callable=True)
    return answer

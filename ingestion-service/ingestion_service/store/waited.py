"""A standalone batch acknowledged only once REDIS_WAIT_REPLICAS replicas hold it (docs/cluster.md).

`WAIT n timeout` counts the replicas that reached the offset of the *calling connection's* last
write, and inside MULTI it returns at once; so the batch's MULTI … EXEC and then its WAIT are sent
on one connection, in one round trip. redis-py's transaction pipeline adds its own EXEC and hands
the connection back to the pool right after it, so this uses a plain (non-transaction) pipeline,
which keeps its connection from WATCH to the end of `execute()`, and stages MULTI and EXEC as
commands of their own (`pipeline_execute_command`, redis-py packs them).

With an Idempotency-Key the answer record is written inside the batch's MULTI/EXEC, so a batch
answered 503 for want of replicas is already on the master with its record: its retry finds the
record, and before the first answer is given back it refreshes the record's TTL — a write of its
own on this connection, propagated after the batch — and WAITs again. Without a key a 503'd batch
retried is counted twice (the same caveat as on a cluster): send the key.

The client passed in must not retry by itself (store/client.py, `writer=True`): a pipeline re-sent
on a fresh connection would count a batch twice, and its WAIT would prove nothing.
"""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions as rex

from ingestion_service.store import keys
from ingestion_service.store.durability import Durability

Command = tuple[Any, ...]
_ATTEMPTS = 5  # a lost WATCH means another writer committed this key: the next read finds its answer
WHERE = "redis"  # how the standalone server is named in the (logged) reason


async def write_batch_waited(
    redis: aioredis.Redis, commands: list[Command], *, ttl: int, result: dict[str, Any],
    idempotency_key: str | None, durability: Durability,
) -> dict[str, Any] | None:
    """Returns the first answer when the key was already written, else None; raises
    ReplicasUnavailable when fewer replicas than asked confirmed the batch in time."""
    wait = durability.wait_command()
    if idempotency_key is None:
        async with redis.pipeline(transaction=False) as pipe:
            replies = await _send(pipe, [("MULTI",), *commands, ("EXEC",), wait])
        _committed(replies)
        durability.check([(WHERE, int(replies[-1]))])
        return None
    idem = keys.idempotency_key(idempotency_key)
    record = json.dumps(result)
    for _ in range(_ATTEMPTS):
        try:
            async with redis.pipeline(transaction=False) as pipe:
                await pipe.watch(idem)
                previous = await pipe.get(idem)
                if previous is not None:
                    replies = await _send(pipe, [("UNWATCH",), ("EXPIRE", idem, ttl), wait])
                else:
                    replies = await _send(pipe, [("MULTI",), *commands, ("SET", idem, record, "EX", ttl),
                                                 ("EXEC",), wait])
        except rex.WatchError:  # the connection broke while WATCHing: read the record again
            continue
        if previous is not None:
            _raise_first(replies)
            if not replies[1]:  # the record expired in between: write the batch anew
                continue
            durability.check([(WHERE, int(replies[-1]))])
            return dict(json.loads(previous))
        if replies[-2] is None:  # EXEC refused: another writer committed this key first
            continue
        _committed(replies)
        durability.check([(WHERE, int(replies[-1]))])
        return None
    raise rex.ConnectionError(f"batch {idempotency_key!r}: its record kept changing; retry")


async def _send(pipe: Any, commands: list[Command]) -> list[Any]:
    for command in commands:
        pipe.pipeline_execute_command(*command)
    return list(await pipe.execute(raise_on_error=False))


def _committed(replies: list[Any]) -> None:
    """MULTI, QUEUED…, EXEC's list, WAIT: the first error raised (a refusal when queued, e.g. OOM,
    comes before EXEC's EXECABORT, as redis-py's transaction pipeline raises it)."""
    _raise_first(replies)
    _raise_first(replies[-2])


def _raise_first(replies: list[Any]) -> None:
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply

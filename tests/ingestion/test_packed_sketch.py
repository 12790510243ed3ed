"""The packed Tr sketch (lua/packed_sketch.lua) against a real redis-server: what several batches
write is what a window reads back, for counts and keys that need several varint bytes."""

from __future__ import annotations

import random

import pytest
import redis.asyncio as aioredis

from ingestion_service.ingest.json_entry import entry_from_json
from ingestion_service.haproxy.models import LogEntry, ParseError
from ingestion_service.signals.aggregate import BACKEND, SERVER, BatchDeltas, ScopeDelta
from ingestion_service.sketch import ZERO_KEY, key_for
from ingestion_service.store import keys, reader
from ingestion_service.store.writer import write_batch

pytestmark = pytest.mark.real
BASE = 1_800_000_000 - 1_800_000_000 % 60


async def _write(r: aioredis.Redis, minute: int, tr: dict[int, int], kind: str = BACKEND) -> None:
    delta = ScopeDelta(sums={"n": sum(tr.values())}, tr_buckets=tr)
    deltas = BatchDeltas({(kind, "be", minute): delta}, {}, 1, None)
    await write_batch(r, deltas, names={kind: {"be"}}, ttl=3600, result={})


async def test_batches_merge_and_windows_read_back_exactly(redis_url: str) -> None:
    rng = random.Random(5)
    r = aioredis.Redis.from_url(redis_url)
    try:
        truth: dict[int, int] = {}
        minutes = [BASE, BASE + 60, BASE + 120]
        for i in range(12):  # several writes to each minute: decode, add, encode in Lua each time
            values, counts = [1, 2, 7, 150, 3000, 10**9, 10**15], [1, 127, 128, 20000, 3 * 10**9]
            tr = {key_for(rng.choice(values)): rng.choice(counts) for _ in range(rng.randint(1, 6))}
            if i % 4 == 0:
                tr[ZERO_KEY] = 129
            await _write(r, minutes[i % 3], tr)
            for k, c in tr.items():
                truth[k] = truth.get(k, 0) + c
        assert await reader.read_packed(r, (BACKEND, "be"), minutes) == truth
        first = await reader.read_packed(r, (BACKEND, "be"), minutes[:1])
        assert sum(first.values()) < sum(truth.values())
        assert await reader.read_packed(r, (BACKEND, "be"), [BASE - 60]) == {}
        assert await r.ttl(keys.scope_prefix(BACKEND, "be", BASE // 60) + ":r") > 0
    finally:
        await r.aclose()


async def test_scopes_outside_tr_kinds_have_no_tr(redis_url: str) -> None:
    r = aioredis.Redis.from_url(redis_url)
    try:
        await _write(r, BASE, {}, kind=SERVER)
        window = (await reader.read_named(r, [(SERVER, "be")], [BASE]))[(SERVER, "be")]
        assert window.requests == 0 and window.tr_buckets is None
        assert await r.exists(keys.scope_prefix(SERVER, "be", BASE // 60) + ":r") == 0
    finally:
        await r.aclose()


def test_json_entries_take_redispatched() -> None:
    base = {"timestamp": "2026-11-22T14:00:00Z", "frontend": "fe", "backend": "be", "server": "s",
            "status_code": 200, "response_time_ms": 5}
    entry = entry_from_json({**base, "redispatched": True, "retries": 1})
    assert isinstance(entry, LogEntry) and entry.redispatched and entry.retries == 1
    plain = entry_from_json(base)
    assert isinstance(plain, LogEntry) and not plain.redispatched
    assert entry_from_json({**base, "redispatched": "yes"}) == ParseError("redispatched must be true or false")

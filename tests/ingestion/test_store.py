"""The Redis store against a real redis-server."""

from __future__ import annotations

import asyncio
import random

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from ingestion_service.haproxy import LogEntry
from ingestion_service.signals import aggregate
from ingestion_service.signals.aggregate import BACKEND, SITE
from ingestion_service.sketch import Sketch
from ingestion_service.store import keys
from ingestion_service.store import reader
from ingestion_service.store.names import NameRegistry
from ingestion_service.store.writer import write_batch

pytestmark = pytest.mark.real
BASE = 1_800_000_000 - 1_800_000_000 % 60
TTL = 26 * 3600


def _rows(n: int, seed: int = 1, minutes: int = 3) -> list[LogEntry]:
    rng = random.Random(seed)
    return [
        LogEntry(BASE + rng.uniform(0, 60 * minutes), "fe", f"be{rng.randint(0, 2)}", f"s{rng.randint(0, 3)}",
                 rng.choice([200, 200, 404, 503]), int(rng.lognormvariate(3, 1)), actconn=rng.randint(0, 50))
        for _ in range(n)
    ]


def _names(deltas) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, set[str]] = {}
    for kind, name, _ in deltas.scopes:
        out.setdefault(kind, set()).add(name)
    return out


@pytest.fixture
async def client(redis_url: str):  # type: ignore[no-untyped-def]
    c = aioredis.Redis.from_url(redis_url)
    yield c
    await c.aclose()


async def test_write_then_read_back_exactly(client: aioredis.Redis) -> None:
    rows = _rows(3000)
    deltas = aggregate(rows)
    await write_batch(client, deltas, names=_names(deltas), ttl=TTL, result={})
    minutes = [BASE, BASE + 60, BASE + 120]
    data = await reader.read_minutes(client, [(SITE, ""), (BACKEND, "be1")], minutes)
    for i, m in enumerate(minutes):
        expected = deltas.scopes[(SITE, "", m)]
        got = data[(SITE, "")][i]
        assert got.sums == expected.sums and got.maxima == expected.maxima and got.buckets == expected.buckets
    assert sum(d.sums["n"] for d in data[(BACKEND, "be1")]) == sum(1 for r in rows if r.backend == "be1")
    exact = sorted(r.response_time_ms for r in rows)
    sk = Sketch()
    for d in data[(SITE, "")]:
        sk.merge(d.buckets)
    p99 = exact[int(0.99 * (len(exact) - 1))]
    assert abs(sk.quantile(0.99) - p99) / p99 <= 0.01
    assert await reader.names(client, BACKEND) == ["be0", "be1", "be2"]


async def test_every_key_has_ttl_and_a_scope_minute_shares_one_slot(client: aioredis.Redis) -> None:
    deltas = aggregate(_rows(2000, minutes=1) + [LogEntry(BASE + 5, "fe", "be0", "s0", 200, 10**6)])
    await write_batch(client, deltas, names=_names(deltas), ttl=TTL, result={}, idempotency_key="k1")
    keys = [k.decode() for k in await client.keys("*")]
    assert keys
    for k in keys:
        assert 0 < await client.ttl(k) <= TTL
    by_tag: dict[str, set[int]] = {}
    for k in keys:
        if "{" in k:
            by_tag.setdefault(k[k.index("{"): k.index("}") + 1], set()).add(key_slot(k.encode()))
    assert any(len([k for k in keys if tag in k]) >= 3 for tag in by_tag)  # counters + >= 2 bucket chunks
    assert all(len(slots) == 1 for slots in by_tag.values())


async def test_idempotency_key_counts_a_batch_once(client: aioredis.Redis) -> None:
    deltas = aggregate(_rows(500, minutes=1))
    first = await write_batch(client, deltas, names=_names(deltas), ttl=TTL, result={"accepted": 500},
                              idempotency_key="batch-7")
    again = await write_batch(client, deltas, names=_names(deltas), ttl=TTL, result={"accepted": 1},
                              idempotency_key="batch-7")
    assert first is None and again == {"accepted": 500}
    data = await reader.read_minutes(client, [(SITE, "")], [BASE])
    assert data[(SITE, "")][0].sums["n"] == 500


async def test_concurrent_writers_of_one_idempotency_key_count_it_once(client: aioredis.Redis) -> None:
    """Replicas racing on one key: WATCH makes all but one retry, and the retry reads the answer."""
    deltas = aggregate(_rows(500, minutes=1))
    answers = await asyncio.gather(*(
        write_batch(client, deltas, names=_names(deltas), ttl=TTL, result={"accepted": i},
                    idempotency_key="raced")
        for i in range(8)
    ))
    firsts = [a for a in answers if a is None]
    assert len(firsts) == 1
    winner = answers.index(None)
    assert all(a == {"accepted": winner} for a in answers if a is not None)
    data = await reader.read_minutes(client, [(SITE, "")], [BASE])
    assert data[(SITE, "")][0].sums["n"] == 500


async def test_memory_does_not_grow_with_request_count(client: aioredis.Redis) -> None:
    async def write(seeds: range) -> None:
        for seed in seeds:
            deltas = aggregate(_rows(2000, seed=seed, minutes=2))
            await write_batch(client, deltas, names=_names(deltas), ttl=TTL, result={})

    await write(range(10))
    keys_before = await client.dbsize()
    memory_before = (await client.info("memory"))["used_memory"]
    await write(range(10))  # twice the requests over the same minutes and scopes
    assert await client.dbsize() == keys_before
    assert (await client.info("memory"))["used_memory"] <= memory_before * 1.05
    data = await reader.read_minutes(client, [(SITE, "")], [BASE, BASE + 60])
    assert sum(d.sums["n"] for d in data[(SITE, "")]) == 40000


async def test_name_cap_is_atomic_and_folds_into_other(client: aioredis.Redis) -> None:
    a = NameRegistry(cap=3, server_cap=3, ttl=TTL, clock=lambda: 7200.0)
    b = NameRegistry(cap=3, server_cap=3, ttl=TTL, clock=lambda: 7200.0)  # a second replica
    await a.resolve(client, {BACKEND: {"x1", "x2"}})
    await b.resolve(client, {BACKEND: {"x3", "x4", "x5", "x1"}})
    admitted = a.admitted[BACKEND] | b.admitted[BACKEND]
    assert len(admitted) == 3 and {"x1", "x2"} <= admitted
    assert await client.scard(keys.admitted_key(BACKEND, 2)) == 3
    rejected = {"x3", "x4", "x5"} - admitted
    assert all(b.rename(BACKEND, n) == "__other__" for n in rejected)
    await a.resolve(client, {BACKEND: {"y" * 500}})
    assert a.rename(BACKEND, "y" * 500) == "__other__"


async def test_windows_across_hours_with_empty_hours_read_whole(client: aioredis.Redis) -> None:
    """Reads go one script call per scope-hour: a window over three hours, the middle one empty,
    adds up to what the minutes hold, keeps each minute in its place, and still answers after
    the server forgot its scripts (SCRIPT FLUSH: NOSCRIPT, loaded again)."""
    hour = BASE - BASE % 3600
    stamps = [hour + 3540 + 5, hour + 3600 * 2 + 10, hour + 3600 * 2 + 70]  # 00:59, 02:00, 02:01
    rows = [LogEntry(t + i, "fe", "be1", "s0", 503 if i % 4 == 0 else 200, 20 + i)
            for t in stamps for i in range(40)]
    deltas = aggregate(rows)
    await write_batch(client, deltas, names=_names(deltas), ttl=TTL, result={})
    minutes = [hour + 3540 + 60 * k for k in range(63)]  # 00:59 .. 02:01
    await client.script_flush()
    named = (await reader.read_named(client, [(BACKEND, "be1")], minutes))[(BACKEND, "be1")]
    assert (named.requests, named.errors_5xx) == (120, 30)
    assert sum(named.buckets.values()) == 120
    spans = (await reader.read_spans(client, [(BACKEND, "be1")], minutes, ("n", "e5")))[(BACKEND, "be1")]
    assert spans.sums["n"] == 120 and len(spans.minutes) == 63
    assert [k for k, row in enumerate(spans.minutes) if row[0]] == [0, 61, 62]
    assert spans.minutes[61][:2] == [40, 10]
    per_minute = (await reader.read_minutes(client, [(BACKEND, "be1")], minutes))[(BACKEND, "be1")]
    assert [k for k, d in enumerate(per_minute) if d.sums.get("n")] == [0, 61, 62]

"""REDIS_WAIT_REPLICAS on a standalone Redis with a real replica (store/waited.py): a batch is
acknowledged only once the replica holds it; with the replica paused (SIGSTOP) it is answered 503
with the reason, and its retry with the same key counts it once, and only once the replica is back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import redis.asyncio as aioredis

from ingestion_service.app import create_app
from ingestion_service.settings import Settings
from ingestion_service.signals import aggregate
from ingestion_service.signals.aggregate import SITE
from ingestion_service.store import reader
from ingestion_service.store.client import open_store
from ingestion_service.store.durability import Durability
from ingestion_service.store.writer import write_batch
from tests.cluster.traffic import END, batch
from tests.ingestion.test_store import BASE, _names, _rows
from tests.support.binaries import require_binary
from tests.support.redis_proc import RedisProcess
from tests.support.redis_replica import RedisReplica
from tests.support.servers import serve_app

pytestmark = pytest.mark.real
TEXT = {"Content-Type": "text/plain"}


@pytest.fixture
def replica(fresh_redis: RedisProcess) -> Iterator[RedisReplica]:
    proc = RedisReplica(require_binary("redis-server"), fresh_redis).start()
    try:
        yield proc
    finally:
        proc.stop()


def _app(url: str, **env: object) -> object:
    return create_app(Settings(parse_workers=0, log_json=False, redis_url=url, **env))  # type: ignore[arg-type]


def _total(url: str) -> int:
    return int(httpx.get(url + "/metrics/overview", params={"window": "1h", "end": END}, timeout=30)
               .json()["total_requests"])


def _waits(proc: RedisProcess) -> int:
    """WAIT commands the server has run (INFO commandstats)."""
    client = proc.client()
    try:
        return int(client.info("commandstats").get("cmdstat_wait", {}).get("calls", 0))
    finally:
        client.close()


def test_with_a_replica_every_batch_waits_for_it_and_the_replica_holds_the_counts(
        fresh_redis: RedisProcess, replica: RedisReplica) -> None:
    with serve_app(_app(fresh_redis.url, redis_wait_replicas=1, redis_wait_timeout_ms=10_000)) as url, \
            serve_app(_app(replica.url)) as on_replica:
        for i, key in ((0, "b-1"), (1, "b-2"), (2, None), (0, "b-1")):  # the last one a duplicate
            headers = TEXT if key is None else {**TEXT, "Idempotency-Key": key}
            r = httpx.post(url + "/logs", content=batch(i, 300), headers=headers, timeout=30)
            assert r.status_code == 202 and r.json()["accepted"] == 300, r.text
        assert _waits(fresh_redis) == 4  # each batch (the duplicate too) waited on its connection
        assert _total(url) == 900
        assert _total(on_replica) == 900  # acknowledged, so already on the replica: no polling


def test_a_paused_replica_answers_503_with_the_reason_and_the_retry_counts_once(
        fresh_redis: RedisProcess, replica: RedisReplica) -> None:
    body, keyed = batch(1, 400), {**TEXT, "Idempotency-Key": "batch-1"}
    with serve_app(_app(fresh_redis.url, redis_wait_replicas=1, redis_wait_timeout_ms=200)) as url, \
            serve_app(_app(fresh_redis.url, redis_wait_replicas=1, redis_wait_timeout_ms=10_000)) as patient, \
            serve_app(_app(replica.url)) as on_replica:
        replica.pause()
        try:
            for _ in range(2):  # the retry finds the batch on the master, and still is not acknowledged
                r = httpx.post(url + "/logs", content=body, headers=keyed, timeout=30)
                assert r.status_code == 503 and r.headers["Retry-After"], r.text
                assert "fewer than 1 replicas confirmed the write within 200 ms" in r.json()["detail"]
            unkeyed = httpx.post(url + "/logs", content=batch(2, 100), headers=TEXT, timeout=30)
            assert unkeyed.status_code == 503  # written on the master all the same (docs/cluster.md)
        finally:
            replica.resume()
        # the replica back (given time to catch up on a busy machine): the same key acknowledged
        r = httpx.post(patient + "/logs", content=body, headers=keyed, timeout=30)
        assert r.status_code == 202 and r.json()["accepted"] == 400, r.text
        assert _total(url) == 500  # the keyed batch once, though sent three times
        assert _total(on_replica) == 500
        assert 'oncall_ingest_batches_total{outcome="redis_error"} 3.0' in httpx.get(url + "/prometheus/metrics").text
        assert 'oncall_ingest_batches_total{outcome="duplicate"} 1.0' in httpx.get(patient + "/prometheus/metrics").text


def test_waiting_for_a_replica_that_does_not_exist_never_acknowledges(fresh_redis: RedisProcess) -> None:
    with serve_app(_app(fresh_redis.url, redis_wait_replicas=1, redis_wait_timeout_ms=50)) as url:
        r = httpx.post(url + "/logs", content=batch(0, 50), headers={**TEXT, "Idempotency-Key": "k"}, timeout=30)
        assert r.status_code == 503 and "replicas" in r.json()["detail"], r.text


def test_without_wait_replicas_a_lone_redis_acknowledges_and_nothing_waits(fresh_redis: RedisProcess) -> None:
    with serve_app(_app(fresh_redis.url)) as url:
        for key in ("k", None):
            headers = TEXT if key is None else {**TEXT, "Idempotency-Key": key}
            assert httpx.post(url + "/logs", content=batch(0, 50), headers=headers, timeout=30).status_code == 202
        assert _total(url) == 100
    assert _waits(fresh_redis) == 0  # n=0: today's single MULTI/EXEC, no WAIT round trip


async def test_writers_racing_on_one_key_with_wait_count_it_once_and_each_waits(
        fresh_redis: RedisProcess, replica: RedisReplica) -> None:
    client = aioredis.Redis.from_url(fresh_redis.url)
    try:
        deltas = aggregate(_rows(500, minutes=1))
        answers = await asyncio.gather(*(
            write_batch(client, deltas, names=_names(deltas), ttl=3600, result={"accepted": i},
                        idempotency_key="raced", durability=Durability(1, 5000))
            for i in range(6)))
    finally:
        await client.aclose()
    assert answers.count(None) == 1
    winner = answers.index(None)
    assert all(a == {"accepted": winner} for a in answers if a is not None)
    assert _waits(fresh_redis) >= 6
    on_replica = aioredis.Redis.from_url(replica.url)
    try:  # every writer waited for the replica, so it holds the batch: once
        data = await reader.read_minutes(on_replica, [(SITE, "")], [BASE])
    finally:
        await on_replica.aclose()
    assert data[(SITE, "")][0].sums["n"] == 500


def test_the_writer_client_never_retries_by_itself(fresh_redis: RedisProcess) -> None:
    """A pipeline re-sent on a fresh connection would count the batch twice and its WAIT prove nothing."""
    writer = open_store(redis_url=fresh_redis.url, cluster_urls=None, timeout_s=1, writer=True)
    assert isinstance(writer, aioredis.Redis)
    connection = writer.connection_pool.make_connection()
    assert connection.retry.get_retries() == 0
    assert type(connection.retry).__module__ == "redis.asyncio.retry"  # awaited by the asyncio pipeline

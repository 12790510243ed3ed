"""REDIS_WAIT_REPLICAS: a batch is acknowledged only once its slots reached that many replicas;
short of them it is answered 503 and its retry counts it once. And the settings' cluster URLs."""

from __future__ import annotations

import httpx
import pytest

from ingestion_service.app import create_app
from ingestion_service.settings import Settings
from oncall_common.redis_target import ClusterTarget, cluster_target
from tests.cluster.traffic import END, batch
from tests.support.redis_cluster import RedisClusterProcesses
from tests.support.servers import serve_app

HEADERS = {"Content-Type": "text/plain", "Idempotency-Key": "batch-1"}


def _app(cluster: RedisClusterProcesses, **env: object) -> object:
    return create_app(Settings(parse_workers=0, log_json=False, redis_cluster_urls=cluster.urls, **env))  # type: ignore[arg-type]


@pytest.mark.real
def test_fewer_replicas_than_asked_is_503_and_the_retry_counts_once(redis_cluster: RedisClusterProcesses) -> None:
    body = batch(3, 400)
    # each master has one replica: asking for two can never be met
    with serve_app(_app(redis_cluster, redis_wait_replicas=2, redis_wait_timeout_ms=50)) as strict, \
            serve_app(_app(redis_cluster, redis_wait_replicas=1)) as normal:
        for _ in range(2):
            r = httpx.post(strict + "/logs", content=body, headers=HEADERS, timeout=30)
            assert r.status_code == 503 and r.headers["Retry-After"], r.text
        r = httpx.post(normal + "/logs", content=body, headers=HEADERS, timeout=30)
        assert r.status_code == 202 and r.json()["accepted"] == 400
        total = httpx.get(normal + "/metrics/overview", params={"window": "1h", "end": END}).json()
        assert total["total_requests"] == 400  # written by the first 503'd attempt, counted once
        metrics = httpx.get(strict + "/prometheus/metrics").text
        assert 'oncall_ingest_batches_total{outcome="redis_error"} 2.0' in metrics


@pytest.mark.real
def test_a_batch_whose_answer_was_lost_counts_once_by_its_slot_records(redis_cluster: RedisClusterProcesses) -> None:
    """The answer record is written last; a retry that finds none (lost in a failover) still meets
    every scope-minute's record of the batch."""
    import redis as sync_redis

    from ingestion_service.store.keys import idempotency_key

    body = batch(5, 300)
    with serve_app(_app(redis_cluster)) as url:
        assert httpx.post(url + "/logs", content=body, headers=HEADERS, timeout=30).status_code == 202
        answer = idempotency_key("batch-1")
        client = sync_redis.RedisCluster(host="127.0.0.1", port=redis_cluster.ports[0])
        try:
            assert client.delete(answer) == 1
            assert client.exists(answer) == 0
        finally:
            client.close()
        r = httpx.post(url + "/logs", content=body, headers=HEADERS, timeout=30)
        assert r.status_code == 202 and r.json()["accepted"] == 300
        total = httpx.get(url + "/metrics/overview", params={"window": "1h", "end": END}).json()
        assert total["total_requests"] == 300


def test_cluster_urls_parse() -> None:
    assert cluster_target(None, "redis://127.0.0.1:6379/0") is None
    assert cluster_target("", "redis://h:1/0") is None
    assert cluster_target("a:7000, redis://b:7001", "redis://x/0") == ClusterTarget((("a", 7000), ("b", 7001)))
    assert cluster_target(None, "redis+cluster://u:pw@a:7000,b:7001") == ClusterTarget(
        (("a", 7000), ("b", 7001)), password="pw", username="u")
    assert cluster_target("a", "") == ClusterTarget((("a", 6379),))


@pytest.mark.parametrize("bad", ["http://a:1", "a:notaport", "redis://a:1/3", " , "])
def test_bad_cluster_urls_fail_at_start(bad: str) -> None:
    with pytest.raises(ValueError, match="cluster|REDIS_CLUSTER_URLS"):
        Settings(redis_cluster_urls=bad)

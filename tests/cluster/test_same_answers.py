"""The same lines on a standalone Redis and on a Redis Cluster give the same answer on every
/metrics endpoint (the cluster reads each minute as its own call and merges them in the service)."""

from __future__ import annotations

import httpx
import pytest

from ingestion_service.app import create_app
from ingestion_service.settings import Settings
from tests.cluster.traffic import END, batch
from tests.support.redis_cluster import RedisClusterProcesses
from tests.support.servers import serve_app

pytestmark = pytest.mark.real

QUERIES = [
    ("/metrics/overview", {"window": "30m"}),
    ("/metrics/overview", {"window": "30m", "backend": "be1"}),
    ("/metrics/status-codes", {"window": "30m", "frontend": "fe0"}),
    ("/metrics/termination-states", {"window": "30m"}),
    ("/metrics/response-times", {"window": "30m"}),
    ("/metrics/response-times", {"window": "10m", "backend": "be2"}),
    ("/metrics/rps", {"minutes": "25"}),
    ("/metrics/backends", {"window": "30m"}),
    ("/metrics/frontends", {"window": "30m", "backend": "be0"}),
    ("/metrics/breakdown", {"window": "5m", "baseline": "20m"}),
]


def _settings(**env: str) -> Settings:
    return Settings(parse_workers=0, log_json=False, **env)  # type: ignore[arg-type]


def test_every_query_answers_the_same_on_cluster_and_standalone(
        redis_cluster: RedisClusterProcesses, redis_url: str) -> None:
    with serve_app(create_app(_settings(redis_url=redis_url))) as standalone, \
            serve_app(create_app(_settings(redis_cluster_urls=redis_cluster.urls))) as cluster:
        for i in range(6):
            body = batch(i, 700)
            for url in (standalone, cluster):
                r = httpx.post(url + "/logs", content=body, headers={"Content-Type": "text/plain"}, timeout=30)
                assert r.status_code == 202 and r.json()["accepted"] == 700, r.text
        compared = 0
        for path, params in QUERIES:
            wanted = httpx.get(standalone + path, params={"end": END, **params}, timeout=30)
            got = httpx.get(cluster + path, params={"end": END, **params}, timeout=30)
            assert wanted.status_code == got.status_code == 200, (path, got.text)
            assert got.json() == wanted.json(), path
            compared += 1
        assert compared == len(QUERIES)
        overview = httpx.get(cluster + "/metrics/overview", params={"window": "30m", "end": END}).json()
        assert overview["total_requests"] == 6 * 700
        sat = httpx.get(cluster + "/metrics/saturation", params={"window": "30m", "end": END}).json()
        want = httpx.get(standalone + "/metrics/saturation", params={"window": "30m", "end": END}).json()
        assert sat["haproxy"] == want["haproxy"]
        assert sat["redis"]["used_memory_bytes"] > 0 and sat["redis"]["connected_clients"] >= 3
        assert httpx.get(cluster + "/health/ready").status_code == 200

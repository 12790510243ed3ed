"""The same lines on a standalone Redis and on a Redis Cluster give the same answer on every
/metrics endpoint (the cluster reads each scope-hour as its own call and merges them in the
service; the generated minutes cross an hour's turn, so every window spans two hash tags)."""

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


def _script_calls(redis_cluster: RedisClusterProcesses) -> int:
    """EVAL and EVALSHA calls served so far, over the masters."""
    total = 0
    for port in redis_cluster.master_ports():
        stats = redis_cluster.node(port).info("commandstats")
        total += sum(int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in ("eval", "evalsha"))
    return total


def test_a_window_is_read_in_one_call_per_scope_hour(redis_cluster: RedisClusterProcesses) -> None:
    """The keys are tagged by scope-hour: /metrics/backends over 24 h of which two hours hold data
    reads each scope in two calls (and finds the minutes holding data in one call per hour),
    not one call per scope-minute (20 minutes × 9 scopes read before the scope-hour tag)."""
    with serve_app(create_app(_settings(redis_cluster_urls=redis_cluster.urls))) as cluster:
        for i in range(3):
            r = httpx.post(cluster + "/logs", content=batch(i, 700), headers={"Content-Type": "text/plain"})
            assert r.status_code == 202, r.text
        before = _script_calls(redis_cluster)
        rows = httpx.get(cluster + "/metrics/backends", params={"window": "24h", "end": END}, timeout=30).json()["backends"]
        calls = _script_calls(redis_cluster) - before
    scopes = len(rows) + sum(len(r.get("servers", [])) for r in rows)
    assert sum(r["requests"] for r in rows) == 3 * 700
    assert scopes == 9, rows
    assert calls <= 25 + 2 * scopes, calls  # 25 hours' presence calls, then two hours per scope

"""Real ingestion-service processes on a real Redis Cluster: two replicas posting the same
generated lines split between them, exact counts; a master SIGKILLed during ingestion."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.cluster.traffic import END, batch
from tests.support.redis_cluster import RedisClusterProcesses
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.real
Start = Callable[[dict[str, str]], ServiceProcess]


@pytest.fixture
def ingestion() -> Iterator[Start]:
    started: list[ServiceProcess] = []

    def start(env: dict[str, str]) -> ServiceProcess:
        proc = ServiceProcess("ingestion-service", {"LOG_LEVEL": "WARNING", "PARSE_WORKERS": "0", **env})
        started.append(proc)
        return proc.start(ready_path="/health/ready")

    yield start
    for proc in started:
        proc.stop()


def _post_until_acknowledged(urls: tuple[str, ...], body: str, key: str, deadline: float) -> dict[str, int]:
    """A client retrying on 503 (and on a dropped connection) with the same Idempotency-Key, each
    attempt at the next replica."""
    attempts = failures = 0
    while time.monotonic() < deadline:
        url = urls[attempts % len(urls)]
        attempts += 1
        try:
            r = httpx.post(url + "/logs", content=body, timeout=10,
                           headers={"Content-Type": "text/plain", "Idempotency-Key": key})
        except httpx.TransportError:
            failures += 1
            time.sleep(0.1)
            continue
        if r.status_code == 202:
            return {"attempts": attempts, "answered_503": failures, "accepted": r.json()["accepted"]}
        assert r.status_code == 503, r.text  # never a 500: a cluster in motion is worth a retry
        assert r.headers.get("Retry-After")
        failures += 1
        time.sleep(0.1)
    raise TimeoutError(f"batch {key} never acknowledged")


def _total(url: str, **params: str) -> int:
    r = httpx.get(url + "/metrics/overview", params={"window": "1h", "end": END, **params}, timeout=30)
    r.raise_for_status()
    return int(r.json()["total_requests"])


def _in_threads(work: Callable[[int], None], n: int) -> None:
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            work(k)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


def test_two_replicas_on_the_cluster_count_exactly(redis_cluster: RedisClusterProcesses, ingestion: Start) -> None:
    env = {"REDIS_CLUSTER_URLS": redis_cluster.urls, "REDIS_WAIT_REPLICAS": "1"}
    a, b = ingestion(env), ingestion(env)
    batches, size = 40, 500

    def work(offset: int) -> None:
        for i in range(offset, batches, 4):
            url = (a.url, b.url)[i % 2]
            headers = {"Content-Type": "text/plain"}
            if i % 4 == 0:
                headers["Idempotency-Key"] = f"batch-{i}"
            r = httpx.post(url + "/logs", content=batch(i, size), headers=headers, timeout=30)
            assert r.status_code == 202 and r.json()["accepted"] == size, r.text
            if i % 4 == 0:  # the same batch again, at the other replica: not counted twice
                again = httpx.post((b.url, a.url)[i % 2] + "/logs", content=batch(i, size), headers=headers,
                                   timeout=30)
                assert again.status_code == 202 and again.json() == r.json()

    _in_threads(work, 4)
    assert _total(a.url) == _total(b.url) == batches * size
    assert _total(a.url, backend="be1") == sum(batch(i, size).count(" be1/") for i in range(batches))
    metrics = httpx.get(b.url + "/prometheus/metrics").text
    assert 'oncall_ingest_batches_total{outcome="duplicate"} 10.0' in metrics  # the keyed ones, re-posted at b


def test_a_master_killed_mid_ingestion_loses_no_acknowledged_line(
        fresh_cluster: RedisClusterProcesses, ingestion: Start) -> None:
    env = {"REDIS_CLUSTER_URLS": fresh_cluster.urls, "REDIS_WAIT_REPLICAS": "1",
           "REDIS_WAIT_TIMEOUT_MS": "500", "REDIS_TIMEOUT_SECONDS": "1"}
    urls = (ingestion(env).url, ingestion(env).url)
    batches, size = 60, 300
    acked: list[dict[str, int]] = []
    victim = fresh_cluster.master_ports()[0]
    chaos_done = threading.Event()

    def chaos() -> None:
        while len(acked) < 15:
            time.sleep(0.01)
        fresh_cluster.kill(victim)
        fresh_cluster.wait_promoted(victim)  # its replica takes the slots, with no replica of its own
        time.sleep(0.5)  # writes to those slots keep failing WAIT (503) until the old master is back
        fresh_cluster.restart(victim)  # rejoins as the new master's replica
        chaos_done.set()

    killer = threading.Thread(target=chaos)
    killer.start()
    deadline = time.monotonic() + 90
    lock = threading.Lock()

    def work(offset: int) -> None:
        for i in range(offset, batches, 3):
            answer = _post_until_acknowledged(urls, batch(i, size), f"batch-{i}", deadline)
            with lock:
                acked.append(answer)

    _in_threads(work, 3)
    killer.join(timeout=60)
    assert chaos_done.is_set()
    assert len(acked) == batches and all(a["accepted"] == size for a in acked)
    assert sum(a["answered_503"] for a in acked) > 0, "the failover never hit a request"
    assert victim not in fresh_cluster.master_ports()
    assert _total(urls[0]) == _total(urls[1]) == batches * size  # every batch exactly once
    # the read scripts (EVALSHA) on the promoted master, which had none loaded: NOSCRIPT, loaded, read
    rows = httpx.get(urls[0] + "/metrics/backends", params={"window": "1h", "end": END}, timeout=30).json()
    wanted = {f"be{b}": sum(batch(i, size).count(f" be{b}/") for i in range(batches)) for b in range(3)}
    assert {row["name"]: row["requests"] for row in rows["backends"]} == wanted
    for url in urls:
        assert httpx.get(url + "/health/ready").status_code == 200

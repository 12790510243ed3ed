"""Real ingestion-service processes: two replicas on one Redis, Redis killed mid-stream, syslog UDP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.binaries import require_binary
from tests.support.net import free_udp_port
from tests.support.redis_proc import RedisProcess
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.real
END = "2026-11-22T14:30:00Z"
LINE = ('10.0.0.{c}:4000 [22/Nov/2026:14:{m:02d}:17.032] fe be{b}/app1 0/0/1/7/{ta} {status} 185 - - ---- '
        '1/1/0/0/0 0/0 "GET /a HTTP/1.1"')


def _batch(i: int, size: int) -> str:
    return "\n".join(LINE.format(c=j % 250, m=i % 20, b=j % 3, ta=j % 500, status=(200, 404, 503)[j % 3])
                     for j in range(size))


def _post_until_acknowledged(url: str, body: str, key: str, deadline: float) -> dict:  # type: ignore[type-arg]
    """A client that retries on 503 / connection errors with the same Idempotency-Key."""
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        try:
            r = httpx.post(url + "/logs", content=body, timeout=5,
                           headers={"Content-Type": "text/plain", "Idempotency-Key": key})
            if r.status_code == 202:
                return {"attempts": attempts, **r.json()}
            assert r.status_code == 503, r.text
            assert r.headers.get("Retry-After")
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"batch {key} never acknowledged")


def _total(url: str, **params: str) -> int:
    r = httpx.get(url + "/metrics/overview", params={"window": "1h", "end": END, **params}, timeout=10)
    r.raise_for_status()
    return int(r.json()["total_requests"])


@pytest.fixture
def service_factory() -> Iterator:  # type: ignore[type-arg]
    started: list[ServiceProcess] = []

    def start(env: dict[str, str]) -> ServiceProcess:
        proc = ServiceProcess("ingestion-service", {"LOG_LEVEL": "WARNING", **env})
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.stop()


def test_two_replicas_write_one_redis_with_exact_counts(redis_url: str, service_factory) -> None:  # type: ignore[no-untyped-def]
    a = service_factory({"REDIS_URL": redis_url})
    b = service_factory({"REDIS_URL": redis_url})
    batches, size = 40, 600  # bodies over 64 KiB: parsed in the worker processes
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for i in range(offset, batches, 4):
                url = (a.url, b.url)[i % 2]
                r = httpx.post(url + "/logs", content=_batch(i, size), headers={"Content-Type": "text/plain"},
                               timeout=30)
                assert r.status_code == 202 and r.json()["accepted"] == size, r.text
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert _total(a.url) == _total(b.url) == batches * size
    assert _total(a.url, backend="be1") == batches * size // 3
    codes = httpx.get(b.url + "/metrics/status-codes", params={"window": "1h", "end": END}).json()
    third = batches * size // 3
    assert codes["status_codes"] == {"200": third, "404": third, "503": third}


def test_redis_killed_mid_stream_every_acknowledged_line_counted_once(service_factory) -> None:  # type: ignore[no-untyped-def]
    redis_proc = RedisProcess(require_binary("redis-server"),
                              extra=["--appendonly", "yes", "--appendfsync", "always"]).start()
    try:
        svc = service_factory({"REDIS_URL": redis_proc.url, "REDIS_TIMEOUT_SECONDS": "1"})
        batches, size = 60, 200
        acked: list[dict] = []  # type: ignore[type-arg]
        outage_done = threading.Event()

        def chaos() -> None:
            while len(acked) < 15:
                time.sleep(0.01)
            redis_proc.kill()
            time.sleep(1.5)
            redis_proc.start()
            outage_done.set()

        killer = threading.Thread(target=chaos)
        killer.start()
        deadline = time.monotonic() + 90
        for i in range(batches):
            acked.append(_post_until_acknowledged(svc.url, _batch(i, size), f"batch-{i}", deadline))
            if i == batches // 2:
                outage_done.wait(timeout=30)
        killer.join(timeout=30)
        assert all(a["accepted"] == size for a in acked)
        assert any(a["attempts"] > 1 for a in acked), "the outage never hit a request"
        assert _total(svc.url) == batches * size
        metrics = httpx.get(svc.url + "/prometheus/metrics").text
        assert 'oncall_ingest_batches_total{outcome="redis_error"} 0.0' not in metrics
        assert httpx.get(svc.url + "/health/ready").status_code == 200
    finally:
        redis_proc.stop()


def test_syslog_udp_listener(redis_url: str, service_factory, shared_fixtures: Path) -> None:  # type: ignore[no-untyped-def]
    port = free_udp_port()
    svc = service_factory({"REDIS_URL": redis_url, "SYSLOG_UDP_PORT": str(port)})
    lines = (shared_fixtures / "haproxy" / "syslog-udp-haproxy-2.6.log").read_bytes().splitlines()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for line in lines:
            sock.sendto(line, ("127.0.0.1", port))
    deadline = time.monotonic() + 10
    params = {"window": "5m", "end": "2026-11-22T14:05:00Z"}
    total = 0
    while time.monotonic() < deadline:
        total = httpx.get(svc.url + "/metrics/overview", params=params).json()["total_requests"]
        if total >= 221:
            break
        time.sleep(0.2)
    assert total == 221
    time.sleep(1.2)  # nothing counted twice by a later flush
    assert httpx.get(svc.url + "/metrics/overview", params=params).json()["total_requests"] == 221
    metrics = httpx.get(svc.url + "/prometheus/metrics").text
    assert 'oncall_ingest_lines_total{result="accepted",source="syslog"} 221.0' in metrics
    assert 'oncall_ingest_lines_total{result="skipped",source="syslog"} 7.0' in metrics


def _parse_workers(pid: int) -> list[int]:
    kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(k) for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()]


def test_a_killed_parse_worker_is_replaced(redis_url: str, service_factory) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal

    svc = service_factory({"REDIS_URL": redis_url, "PARSE_WORKERS": "2"})
    assert svc.proc is not None
    workers = _parse_workers(svc.proc.pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    body = _batch(1, 1000)  # > 64 KiB: goes to the worker pool
    for _ in range(3):
        r = httpx.post(svc.url + "/logs", content=body, headers={"Content-Type": "text/plain"}, timeout=30)
        assert r.status_code == 202, r.text
    assert _total(svc.url) == 3000
    replaced = _parse_workers(svc.proc.pid)
    assert replaced and workers[0] not in replaced  # a new pool (it starts workers on demand)

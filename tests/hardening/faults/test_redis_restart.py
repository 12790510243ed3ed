"""Redis SIGKILLed and restarted (AOF, appendfsync always) under the two paths the ingestion tests
do not cover that way: the syslog UDP path (buffered lines and a failed batch retried with its key)
and several clients retrying the same idempotent batches concurrently on two replicas while Redis
is down. Every line that was acknowledged (HTTP) or received (UDP, none dropped) is counted once."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from tests.hardening.procs import processes
from tests.support.binaries import require_binary
from tests.support.net import free_udp_port
from tests.support.redis_proc import RedisProcess

pytestmark = pytest.mark.real

END = "2026-11-22T15:00:00Z"
LINE = ('<134>Nov 22 14:{m:02d}:17 haproxy[1]: 10.0.0.{c}:4000 [22/Nov/2026:14:{m:02d}:17.032] fe be{b}/app1 '
        '0/0/1/7/{ta} {status} 185 - - ---- 1/1/0/0/0 0/0 "GET /a HTTP/1.1"')


def _durable_redis() -> RedisProcess:
    return RedisProcess(require_binary("redis-server"), extra=["--appendonly", "yes", "--appendfsync", "always"]).start()


def _total(url: str) -> int:
    r = httpx.get(url + "/metrics/overview", params={"window": "1h", "end": END}, timeout=10)
    r.raise_for_status()
    return int(r.json()["total_requests"])


def _metric(url: str, name: str) -> float:
    for line in httpx.get(url + "/prometheus/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{") or (name.endswith("}") and line.startswith(name)):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _wait_total(url: str, expected: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    total = -1
    while time.monotonic() < deadline:
        try:
            total = _total(url)
        except httpx.HTTPError:
            total = -1
        if total >= expected:
            time.sleep(1.5)  # one more flush: a late double count would show now
            return _total(url)
        time.sleep(0.2)
    return total


def test_syslog_lines_received_during_a_redis_crash_are_counted_once() -> None:
    redis_proc = _durable_redis()
    try:
        with processes() as start:
            port = free_udp_port()
            svc = start("ingestion-service", {"REDIS_URL": redis_proc.url, "REDIS_TIMEOUT_SECONDS": "1",
                                              "SYSLOG_UDP_PORT": str(port), "SYSLOG_FLUSH_SECONDS": "0.2"})
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sent = 0
            for round_ in range(30):
                if round_ == 10:
                    redis_proc.kill()
                if round_ == 20:
                    redis_proc.start()
                for j in range(100):  # 100 datagrams per 0.1 s: paced, the kernel buffer never fills
                    sock.sendto(LINE.format(m=round_ % 20, c=j % 250, b=j % 3, ta=j, status=(200, 503)[j % 2]).encode(),
                                ("127.0.0.1", port))
                    sent += 1
                time.sleep(0.1)
            sock.close()
            total = _wait_total(svc.url, sent)
            assert _metric(svc.url, "oncall_ingest_udp_dropped_total") == 0
            assert _metric(svc.url, 'oncall_ingest_batches_total{outcome="redis_error"}') > 0, \
                "no flush failed: the outage was never hit"
            assert total == sent, (total, sent)
            assert httpx.get(svc.url + "/health/ready").status_code == 200
    finally:
        redis_proc.stop()


def test_concurrent_idempotent_retries_across_replicas_during_a_redis_restart() -> None:
    """4 clients each send every batch (same Idempotency-Key) to alternating replicas, retrying on
    503 / connection errors, while Redis is killed and restarted: each batch counted exactly once."""
    redis_proc = _durable_redis()
    batches, size = 24, 150
    try:
        with processes() as start:
            replicas = [start("ingestion-service", {"REDIS_URL": redis_proc.url, "REDIS_TIMEOUT_SECONDS": "1"})
                        for _ in range(2)]
            bodies = ["\n".join(LINE.format(m=i % 20, c=j % 250, b=j % 3, ta=j, status=200)
                                for j in range(size))
                      for i in range(batches)]
            errors: list[BaseException] = []
            attempts: list[int] = []
            started = threading.Event()

            def client(offset: int) -> None:
                try:
                    for i in range(batches):
                        key = f"retry-batch-{i}"
                        n = 0
                        deadline = time.monotonic() + 60
                        while True:
                            n += 1
                            started.set()
                            url = replicas[(i + offset + n) % 2].url
                            try:
                                r = httpx.post(url + "/logs", content=bodies[i], timeout=5,
                                               headers={"Content-Type": "text/plain", "Idempotency-Key": key})
                                if r.status_code == 202:
                                    assert r.json()["accepted"] == size, r.text
                                    break
                                assert r.status_code == 503, r.text
                            except httpx.TransportError:
                                pass
                            assert time.monotonic() < deadline, f"{key} never acknowledged"
                            time.sleep(0.05)
                        attempts.append(n)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
            for t in threads:
                t.start()
            started.wait(10)
            time.sleep(0.3)
            redis_proc.kill()
            time.sleep(1.5)
            redis_proc.start()
            for t in threads:
                t.join(timeout=120)
            assert not errors, errors
            assert max(attempts) > 1, "the outage never hit a request"
            assert _total(replicas[0].url) == _total(replicas[1].url) == batches * size
    finally:
        redis_proc.stop()

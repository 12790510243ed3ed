"""Server limits on a real service process (finding 3): slow heads, big heads, many idle sockets."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hardening.procs import processes
from tests.support.servers import ServiceProcess

LIMITS = {"HEADER_TIMEOUT_S": "1", "BODY_TIMEOUT_S": "1", "MAX_CONNECTIONS": "40"}


@pytest.fixture
def ingestion(redis_url: str) -> Iterator[ServiceProcess]:
    with processes() as start:
        yield start("ingestion-service", {"REDIS_URL": redis_url, **LIMITS}, ready_path="/health")


def _connect(proc: ServiceProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proc.port), timeout=10)


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed the socket within `seconds`, and what it answered before."""
    sock.settimeout(seconds)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except (TimeoutError, socket.timeout):
        return False, answer
    except ConnectionResetError:
        pass
    return True, answer


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_slow_head_is_closed_after_the_header_timeout(ingestion: ServiceProcess) -> None:
    sock = _connect(ingestion)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never finished
    closed, answer = _closed_within(sock, 8.0)  # HEADER_TIMEOUT_S=1; generous bound
    sock.close()
    assert closed and answer == b""


def test_slow_head_on_a_kept_alive_connection_is_closed_too(ingestion: ServiceProcess) -> None:
    sock = _connect(ingestion)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200")
    sock.sendall(b"GET /health HTTP/1.1\r\n")  # the next head, one byte every 0.5 s after
    closed = False
    for _ in range(16):
        try:
            sock.sendall(b"X")
        except OSError:
            closed = True
            break
        time.sleep(0.5)
        sock.settimeout(0.01)
        try:
            if sock.recv(1) == b"":
                closed = True
                break
        except (TimeoutError, socket.timeout, BlockingIOError):
            pass
        except ConnectionResetError:
            closed = True
            break
    sock.close()
    assert closed


def test_slow_body_is_closed_after_the_body_timeout(ingestion: ServiceProcess) -> None:
    sock = _connect(ingestion)
    sock.sendall(b"POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nab")
    closed, _ = _closed_within(sock, 8.0)
    sock.close()
    assert closed


def test_oversized_head_is_answered_431(ingestion: ServiceProcess) -> None:
    response = httpx.get(ingestion.url + "/health", headers={"X-Big": "a" * 70_000}, timeout=10)
    assert response.status_code == 431


def test_eight_megabyte_authorization_is_refused_before_it_is_read(ingestion: ServiceProcess) -> None:
    sock = _connect(ingestion)
    sock.sendall(b"GET /metrics/rps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
    sent = 0
    chunk = b"a" * 65536
    try:
        while sent < 8 * 1024 * 1024:
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    closed, answer = _closed_within(sock, 8.0)
    sock.close()
    assert closed and answer.startswith(b"HTTP/1.1 431")
    assert sent < 8 * 1024 * 1024  # the server stopped reading long before the end


def test_idle_connections_beyond_the_cap_are_dropped_and_health_answers(ingestion: ServiceProcess) -> None:
    socks = [_connect(ingestion) for _ in range(120)]  # MAX_CONNECTIONS=40
    try:
        time.sleep(0.3)
        assert httpx.get(ingestion.url + "/health", timeout=5).status_code == 200
        dropped = 0
        for sock in socks:
            closed, _ = _closed_within(sock, 0.01)
            dropped += closed
        assert dropped >= 120 - 40
        assert httpx.get(ingestion.url + "/health", timeout=5).status_code == 200
    finally:
        for sock in socks:
            sock.close()


def test_memory_stays_bounded_with_twenty_unfinished_large_heads(ingestion: ServiceProcess) -> None:
    assert ingestion.proc is not None
    before = _rss_kib(ingestion.proc.pid)
    socks = [_connect(ingestion) for _ in range(20)]
    chunk = b"a" * 65536
    for sock in socks:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
        sock.settimeout(2)
        try:
            for _ in range(16 * 50):  # 50 MB each, never ended
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError, TimeoutError, socket.timeout):
            pass
    peak = _rss_kib(ingestion.proc.pid)
    for sock in socks:
        sock.close()
    print(f"ingestion RSS: {before / 1024:.1f} MB before, {peak / 1024:.1f} MB with 20 unfinished 50 MB heads")
    assert peak - before < 64 * 1024  # KiB: far below 20 x 50 MB
    assert httpx.get(ingestion.url + "/health", timeout=5).status_code == 200

"""Syslog UDP loses nothing silently: every datagram sent is ingested or counted as dropped."""

from __future__ import annotations

import re
import socket
import time

import httpx
import pytest

from ingestion_service.udp_socket import (
    DropCounter, ancillary_drops, open_socket, proc_drops, read_proc_drops, socket_inode,
)
from tests.ingestion.test_processes import service_factory  # noqa: F401 - fixture
from tests.support.net import free_udp_port

LINE = ('<134>Nov 22 14:{m:02d}:17 haproxy[7]: 10.0.0.{c}:4000 [22/Nov/2026:14:{m:02d}:17.032] fe be{b}/app1 '
        '0/0/1/7/{ta} {status} 185 - - ---- 1/1/0/0/0 0/0 "GET /a HTTP/1.1"')
PROC_TABLE = """\
   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  113: 0100007F:A1B2 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0
  114: 0100007F:C3D4 00000000:0000 07 00000000:00001200 00:00000000 00000000     0        0 5151 2 0000000000000000 6383
"""


def test_proc_table_row_of_our_inode() -> None:
    assert proc_drops(PROC_TABLE, 5151) == 6383
    assert proc_drops(PROC_TABLE, 4242) == 0
    assert proc_drops(PROC_TABLE, 99) is None


def test_drop_counter_counts_each_drop_once_and_survives_wrapping() -> None:
    c = DropCounter()
    assert c.update(0) == 0
    assert c.update(5) == 5
    assert c.update(5) == 0
    assert c.update(3) == 0  # an older datagram's count arriving late
    assert c.update(12) == 7
    c.seen = 0xFFFFFFF0
    assert c.update(0x10) == 0x20


def test_kernel_drop_counter_of_a_real_overflowing_socket() -> None:
    """A socket nobody reads, with the smallest buffer: the kernel drops, both readings agree."""
    sock, effective = open_socket("127.0.0.1", 0, 4096)
    try:
        assert effective < 64 * 1024
        port = sock.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            for i in range(300):
                out.sendto(b"x" * 200, ("127.0.0.1", port))
        dropped = read_proc_drops(socket_inode(sock))
        assert dropped is not None and dropped > 0
        received, carried = 0, []

        def drain() -> None:
            nonlocal received
            while True:
                try:
                    _data, anc, _, _ = sock.recvmsg(65535, socket.CMSG_SPACE(4))
                except BlockingIOError:
                    return
                received += 1
                carried.append(ancillary_drops(anc))

        drain()
        assert received + dropped == 300
        assert set(carried) == {None}  # all queued before the first drop (the kernel sends no count while 0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            out.sendto(b"after", ("127.0.0.1", port))
        drain()
        assert carried[-1] == dropped  # a datagram queued later carries the count so far
    finally:
        sock.close()


def _counters(url: str) -> dict[str, float]:
    text = httpx.get(url + "/prometheus/metrics", timeout=10).text
    out: dict[str, float] = {}
    for name in ("accepted", "rejected", "skipped"):
        m = re.search(rf'oncall_ingest_lines_total{{result="{name}",source="syslog"}} (\S+)', text)
        out[name] = float(m.group(1)) if m else 0.0
    for name in ("oncall_ingest_udp_dropped_total", "oncall_ingest_udp_kernel_drops_total",
                 "oncall_ingest_udp_rcvbuf_bytes", "oncall_ingest_udp_buffer_lines"):
        m = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        out[name] = float(m.group(1)) if m else -1.0
    return out


def _burst(service_factory, redis_url: str, rcvbuf: int, n: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    port = free_udp_port()
    svc = service_factory({"REDIS_URL": redis_url, "SYSLOG_UDP_PORT": str(port),
                           "SYSLOG_RCVBUF_BYTES": str(rcvbuf)})
    lines = [LINE.format(m=i % 20, c=i % 250, b=i % 3, ta=i % 700, status=(200, 404, 503)[i % 3]).encode()
             for i in range(n)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for line in lines:  # as fast as Python sends: faster than the service can take them
            sock.sendto(line, ("127.0.0.1", port))
    deadline = time.monotonic() + 60
    accounted = 0.0
    while time.monotonic() < deadline:
        c = _counters(svc.url)
        accounted = (c["accepted"] + c["rejected"] + c["skipped"] + c["oncall_ingest_udp_dropped_total"]
                     + c["oncall_ingest_udp_kernel_drops_total"])
        if accounted >= n and c["oncall_ingest_udp_buffer_lines"] == 0:
            break
        time.sleep(0.3)
    time.sleep(1.2)  # a later flush or drop reading must not count anything twice
    c = _counters(svc.url)
    assert c["accepted"] + c["rejected"] + c["skipped"] + c["oncall_ingest_udp_dropped_total"] + \
        c["oncall_ingest_udp_kernel_drops_total"] == n, c
    assert c["rejected"] == 0 and c["skipped"] == 0
    overview = httpx.get(svc.url + "/metrics/overview",
                         params={"window": "30m", "end": "2026-11-22T14:20:00Z"}, timeout=10).json()
    assert overview["total_requests"] == c["accepted"]  # every ingested line is durable in Redis
    print(f"burst of {n} into SO_RCVBUF {rcvbuf}: {c}")
    return c


@pytest.mark.real
def test_a_burst_beyond_a_tiny_receive_buffer_is_counted_not_lost(redis_url: str, service_factory) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    c = _burst(service_factory, redis_url, 4096, 20_000)
    assert c["oncall_ingest_udp_rcvbuf_bytes"] < 64 * 1024
    assert c["oncall_ingest_udp_kernel_drops_total"] > 0, c  # the burst did overflow: the counter saw it
    assert c["accepted"] > 0


@pytest.mark.real
def test_a_burst_into_the_default_buffer(redis_url: str, service_factory) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with open("/proc/sys/net/core/rmem_max") as f:
        rmem_max = int(f.read())
    c = _burst(service_factory, redis_url, 8 << 20, 15_559)
    # the kernel reports twice the size granted: at least what net.core.rmem_max allows
    assert c["oncall_ingest_udp_rcvbuf_bytes"] >= 2 * min(8 << 20, rmem_max)

"""Syslog over UDP (HAProxy `log 127.0.0.1:PORT local0`): a bounded buffer flushed at least every second.

UDP cannot be retried by the sender, so nothing may be lost silently: a full buffer drops datagrams
(`oncall_ingest_udp_dropped_total`), a full kernel receive queue drops them before we see them
(`oncall_ingest_udp_kernel_drops_total`, from the kernel's own counter), and a batch whose write
failed is kept and retried with the same idempotency key (never counted twice). The socket is read
directly (`add_reader` + `recvmsg`, up to `_DRAIN` datagrams per wake-up) because asyncio's datagram
transport neither drains a busy socket nor exposes the ancillary data carrying the drop counter.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid

import redis.exceptions

from ingestion_service.ingest.pipeline import Ingestor, prepare_text
from ingestion_service.metrics import IngestMetrics
from ingestion_service.udp_socket import (
    LINUX, OVFL_SPACE, DropCounter, ancillary_drops, open_socket, read_proc_drops, socket_inode,
)

log = logging.getLogger(__name__)
FLUSH_LINES = 5000
_DRAIN = 512  # datagrams read per wake-up before yielding to the event loop
_MAX_DATAGRAM = 65535


class SyslogBuffer:
    def __init__(self, *, capacity: int, metrics: IngestMetrics) -> None:
        self.capacity = capacity
        self.metrics = metrics
        self.lines: list[bytes] = []
        self.full = asyncio.Event()

    def datagram_received(self, data: bytes) -> None:
        if len(self.lines) >= self.capacity:
            self.metrics.udp_dropped.inc()
            return
        self.lines.append(data.rstrip(b"\r\n\x00"))
        if len(self.lines) >= FLUSH_LINES:
            self.full.set()

    def take(self, limit: int) -> list[bytes]:
        taken, self.lines = self.lines[:limit], self.lines[limit:]
        self.full.clear()
        self.metrics.udp_buffer.set(len(self.lines))
        return taken


class SyslogListener:
    def __init__(self, ingestor: Ingestor, metrics: IngestMetrics, *, host: str, port: int,
                 capacity: int, flush_seconds: float = 1.0, rcvbuf: int = 8 << 20) -> None:
        self.ingestor = ingestor
        self.metrics = metrics
        self.host, self.port = host, port
        self.buffer = SyslogBuffer(capacity=capacity, metrics=metrics)
        self.flush_seconds = flush_seconds
        self.rcvbuf = rcvbuf
        self.sock: socket.socket | None = None
        self.inode = 0
        self.kernel_drops = DropCounter()
        self.task: asyncio.Task[None] | None = None
        self.pending: tuple[bytes, str] | None = None  # a batch whose write failed, with its key

    async def start(self) -> None:
        self.sock, effective = open_socket(self.host, self.port, self.rcvbuf)
        self.inode = socket_inode(self.sock)
        self.metrics.udp_rcvbuf.set(effective)
        asyncio.get_running_loop().add_reader(self.sock.fileno(), self._readable)
        self.task = asyncio.create_task(self._run(), name="syslog-flush")
        log.info("syslog UDP listener on %s:%s", self.host, self.port)

    def _readable(self) -> None:
        """Drain the socket (bounded), noting the kernel's drop count each datagram carries."""
        sock, add = self.sock, self.buffer.datagram_received
        assert sock is not None
        newest = -1
        for _ in range(_DRAIN):
            try:
                data, anc, _flags, _addr = sock.recvmsg(_MAX_DATAGRAM, OVFL_SPACE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:  # e.g. ICMP errors surfacing on the socket: keep listening
                log.debug("syslog recvmsg: %s", exc)
                break
            if anc:
                dropped = ancillary_drops(anc)
                if dropped is not None:
                    newest = dropped
            add(data)
        if newest >= 0:
            self._count_kernel_drops(newest)

    def _count_kernel_drops(self, cumulative: int) -> None:
        new = self.kernel_drops.update(cumulative)
        if new:
            self.metrics.udp_kernel_drops.inc(new)
            log.warning("kernel dropped %d syslog datagrams (receive queue full; %d in all)", new, cumulative)

    async def _poll_kernel_drops(self) -> None:
        """Drops after the last datagram read show only in /proc/net/udp."""
        if not LINUX or not self.inode:
            return
        cumulative = await asyncio.to_thread(read_proc_drops, self.inode)
        if cumulative is not None:
            self._count_kernel_drops(cumulative)

    async def stop(self) -> None:
        if self.sock:
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        try:
            await asyncio.wait_for(self.flush(), timeout=5)  # last lines before exit
        except Exception:  # noqa: BLE001 - shutting down: Redis may be gone, log and go
            log.warning("syslog buffer not flushed at shutdown (%d lines)", len(self.buffer.lines))

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.buffer.full.wait(), timeout=self.flush_seconds)
            except asyncio.TimeoutError:
                pass
            try:
                await self._poll_kernel_drops()
            except Exception as exc:  # noqa: BLE001 - a counter must not stop the listener
                log.debug("kernel drop count not read: %s", exc)
            try:
                await self.flush()
            except Exception as exc:  # noqa: BLE001 - keep listening; the batch stays pending
                log.warning("syslog batch not written, will retry: %s", exc)
                await asyncio.sleep(min(self.flush_seconds, 1.0))

    async def flush(self) -> None:
        if self.pending is None:
            lines = self.buffer.take(FLUSH_LINES * 4)
            if not lines:
                return
            self.pending = (b"\n".join(lines), uuid.uuid4().hex)
        body, key = self.pending
        batch = await asyncio.to_thread(prepare_text, body.decode("utf-8", "replace"),
                                        self.ingestor.parse_options)
        try:
            await self.ingestor.commit(batch, source="syslog", idempotency_key="udp:" + key)
        except redis.exceptions.ResponseError as exc:
            if isinstance(exc, (redis.exceptions.OutOfMemoryError, redis.exceptions.ReadOnlyError)):
                raise  # Redis full or failing over: the batch stays pending and is retried
            # Refused as such: retrying it forever would stop every later datagram behind it.
            log.error("syslog batch of %d lines refused by Redis, dropped: %s", batch.accepted, exc)
        self.pending = None

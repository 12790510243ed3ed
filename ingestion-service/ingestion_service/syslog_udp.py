"""Syslog over UDP (HAProxy `log 127.0.0.1:PORT local0`): a bounded buffer flushed at least every second.

UDP cannot be retried by the sender, so a full buffer drops datagrams (counted), and a batch whose
write failed is kept and retried with the same idempotency key (never counted twice).
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from ingestion_service.ingest.pipeline import Ingestor, prepare_text
from ingestion_service.metrics import IngestMetrics

log = logging.getLogger(__name__)
FLUSH_LINES = 5000


class SyslogBuffer(asyncio.DatagramProtocol):
    def __init__(self, *, capacity: int, metrics: IngestMetrics) -> None:
        self.capacity = capacity
        self.metrics = metrics
        self.lines: list[bytes] = []
        self.full = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
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
                 capacity: int, flush_seconds: float = 1.0) -> None:
        self.ingestor = ingestor
        self.metrics = metrics
        self.host, self.port = host, port
        self.buffer = SyslogBuffer(capacity=capacity, metrics=metrics)
        self.flush_seconds = flush_seconds
        self.transport: asyncio.DatagramTransport | None = None
        self.task: asyncio.Task[None] | None = None
        self.pending: tuple[bytes, str] | None = None  # a batch whose write failed, with its key

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self.buffer, local_addr=(self.host, self.port))
        self.task = asyncio.create_task(self._run(), name="syslog-flush")
        log.info("syslog UDP listener on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self.transport:
            self.transport.close()
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
        batch = await asyncio.to_thread(prepare_text, body.decode("utf-8", "replace"))
        await self.ingestor.commit(batch, source="syslog", idempotency_key="udp:" + key)
        self.pending = None

"""A TCP proxy on loopback in front of a real redis-server that cuts a client's connection in the
middle of a write: it forwards the client's bytes up to the first occurrence of `cut_at`, then
closes both sides and refuses every later connection. Whatever the server executes from the bytes
it received is what a crash at that point leaves behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis


class CuttingProxy:
    def __init__(self, upstream_port: int, *, cut_at: bytes) -> None:
        self.upstream_port = upstream_port
        self.cut_at = cut_at
        self.forwarded = b""  # the client's bytes the server got on the connection that was cut
        self.cut = False
        self._cut_port: int | None = None  # the local port of the upstream connection that was cut
        self._tasks: set[asyncio.Task[None]] = set()

    async def _pump_down(self, upstream: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        while data := await upstream.read(65536):
            client.write(data)
            await client.drain()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self.cut:
            client_w.close()
            return
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        down = asyncio.create_task(self._pump_down(up_r, client_w))
        self._tasks.add(down)
        sent = b""
        try:
            while data := await client_r.read(65536):
                at = (sent + data).find(self.cut_at)
                if at >= 0 and not self.cut:
                    self.cut = True
                    self._cut_port = up_w.get_extra_info("sockname")[1]
                    up_w.write((sent + data)[len(sent):at])
                    await up_w.drain()
                    self.forwarded = (sent + data)[:at]
                    break
                sent += data
                up_w.write(data)
                await up_w.drain()
        finally:
            up_w.close()
            client_w.close()
            down.cancel()

    async def settled(self, direct: aioredis.Redis, *, timeout_s: float = 10.0) -> None:
        """Wait until the server has dropped the cut connection, i.e. handled every byte it got."""
        async with asyncio.timeout(timeout_s):
            while True:
                clients = await direct.client_list()
                if not any(c["addr"].endswith(f":{self._cut_port}") for c in clients):
                    return
                await asyncio.sleep(0.01)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        """Yields the redis URL that goes through the proxy."""
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with server:
                yield f"redis://127.0.0.1:{port}/0"
        finally:
            for task in self._tasks:
                task.cancel()

"""What every fake model API here shares: scripted replies (a queue, then a function of the
request body), the record of every request received (each SDK retry too), errors, hangs and
delays, served by uvicorn on loopback (tests.support.servers.serve_app)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.servers import serve_app

MAX_HANG_S = 60.0


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    delay_ms: float = 0.0


@dataclass
class Recorded:
    body: dict[str, Any]
    headers: dict[str, str]
    auth: str | None
    received_at: float = 0.0  # time.monotonic() in this process
    answered_at: float | None = None


Handler = Callable[[dict[str, Any]], Reply]


def hang() -> Reply:
    return Reply(hang=True)


class ScriptedFake:
    def __init__(self, *, delay_ms: float = 0.0) -> None:
        self.delay_ms = delay_ms
        self.requests: list[Recorded] = []
        self._queue: deque[Reply | Handler] = deque()
        self._handler: Handler | None = None
        self._closed = threading.Event()

    # scripting
    def enqueue(self, *replies: Reply | Handler) -> Self:
        self._queue.extend(replies)
        return self

    def respond_with(self, handler: Handler) -> Self:
        self._handler = handler
        return self

    def close(self) -> None:
        """Release hanging requests."""
        self._closed.set()

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests]

    @contextmanager
    def serve(self) -> Iterator[str]:
        with serve_app(self.app()) as url:
            try:
                yield url
            finally:
                self.close()  # hanging handlers return, so uvicorn can stop

    def app(self) -> FastAPI:
        raise NotImplementedError

    async def recorded(
        self, request: Request, auth: str | None, answer: Callable[[dict[str, Any], str | None], Awaitable[JSONResponse]]
    ) -> JSONResponse:
        """Records the request (when it arrived and was answered), then answers it."""
        body = await request.json()
        record = Recorded(body=body, headers=dict(request.headers), auth=auth, received_at=time.monotonic())
        self.requests.append(record)
        try:
            return await answer(body, auth)
        finally:
            record.answered_at = time.monotonic()

    def next_reply(self, body: dict[str, Any], *, exhausted: Reply) -> Reply:
        try:
            item = self._queue.popleft()
        except IndexError:
            if self._handler is None:
                return exhausted
            item = self._handler
        return item(body) if callable(item) else item

    async def hold(self, reply: Reply, *, hung: JSONResponse) -> JSONResponse | None:
        """Waits out the reply's delay; a hang lasts until the client gives up or the fake
        closes (then `hung`). None: go on and answer."""
        delay = (self.delay_ms + reply.delay_ms) / 1000
        if delay:
            await asyncio.sleep(delay)
        if not reply.hang:
            return None
        started = time.monotonic()
        while not self._closed.is_set() and time.monotonic() - started < MAX_HANG_S:
            await asyncio.sleep(0.02)
        return hung

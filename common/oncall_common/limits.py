"""Limits on incomplete requests, for every service's uvicorn server.

uvicorn alone does not bound a client that never finishes its request: it has no header or body
read timeout, its keep-alive timer is cancelled by the first byte of the next request, httptools
(picked by `http="auto"`) has no header size limit, h11 answers an oversized head with 400, and
`limit_concurrency` answers 503 to every request — `/health` included — once reached, while idle
connections stay open. So the services run h11 with `LimitedH11Protocol`, which adds:

- a deadline for the request head (`HEADER_TIMEOUT_S`, from the first byte of a connection or
  the end of the previous response): the connection is closed when it passes;
- a head size cap (`MAX_HEADER_BYTES`): h11 stops buffering at the cap, answered 431 (a head
  that arrives whole in one read is checked by `HeaderSizeGuard` before the app sees it);
- a deadline for the body (`BODY_TIMEOUT_S`, from the end of the head);
- a connection cap (`MAX_CONNECTIONS`): at the cap a new connection takes the slot of the oldest
  connection still waiting for its head (a slow or idle client); when every slot carries a
  request in progress the new connection is closed at once. A `/health` probe, which sends its
  head at once, always gets in.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import h11
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol


class ServerLimits(BaseSettings):
    """Read from the environment by `serve` (names are the field names, upper case)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    body_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    max_header_bytes: int = Field(default=64 * 1024, ge=4096, le=1024 * 1024)
    max_connections: int = Field(default=1000, ge=2, le=100_000)
    keep_alive_s: int = Field(default=5, ge=1, le=300)


class _HintedConnection(h11.Connection):
    """h11's connection that remembers the status its last protocol error suggests (431 for size)."""

    error_hint: int = 400

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.error_hint = exc.error_status_hint
            raise


class LimitedH11Protocol(H11Protocol):
    limits: ClassVar[ServerLimits]  # set by protocol_class

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _HintedConnection(h11.SERVER, self.limits.max_header_bytes)
        self._deadline: asyncio.TimerHandle | None = None
        self._awaiting_head_since: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections and not self._evict_one():
            transport.abort()  # every slot carries a request in progress: refused at once
            return
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._clear_deadline()
        if self.transport is None:  # refused in connection_made
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow_state()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow_state()

    def send_400_response(self, msg: str) -> None:
        if getattr(self.conn, "error_hint", 400) != 431:
            super().send_400_response(msg)
            return
        self._clear_deadline()
        self.logger.warning("Request header fields too large.")
        response = b"".join((
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: 31\r\n\r\n",
            b"Request header fields too large",
        ))
        self.transport.write(response)
        self.transport.close()

    # -- deadlines -------------------------------------------------------------------------

    def _follow_state(self) -> None:
        if self.transport is None or self.transport.is_closing():
            self._clear_deadline()
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._awaiting_head_since is None and (self.cycle is None or self.cycle.response_complete):
                self._await_head()
        elif state is h11.SEND_BODY:
            if self._awaiting_head_since is not None:
                self._awaiting_head_since = None
                self._set_deadline(self.limits.body_timeout_s)
        else:
            self._awaiting_head_since = None
            self._clear_deadline()

    def _await_head(self) -> None:
        self._awaiting_head_since = time.monotonic()
        self._set_deadline(self.limits.header_timeout_s)

    def _set_deadline(self, seconds: float) -> None:
        self._clear_deadline()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _clear_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport is not None and not self.transport.is_closing():
            self.logger.info("Closing a connection: request not received in time.")
            self.transport.close()

    def _evict_one(self) -> bool:
        """Close the connection that has waited longest for its request head; False if none."""
        waiting = [
            conn for conn in self.connections
            if isinstance(conn, LimitedH11Protocol) and conn._awaiting_head_since is not None
            and conn.transport is not None and not conn.transport.is_closing()
        ]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda conn: conn._awaiting_head_since or 0.0)
        oldest._awaiting_head_since = None
        oldest._clear_deadline()
        oldest.transport.abort()
        oldest.connections.discard(oldest)  # its slot is free now, not when the loop gets to it
        return True


def protocol_class(limits: ServerLimits) -> type[LimitedH11Protocol]:
    return type("LimitedH11Protocol", (LimitedH11Protocol,), {"limits": limits})


class HeaderSizeGuard:
    """431 for a request head larger than the cap that reached the app in one read."""

    def __init__(self, app: ASGIApp, *, max_header_bytes: int) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.max_header_bytes:
                await send({"type": "http.response.start", "status": 431,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": b"Request header fields too large"})
                return
        await self.app(scope, receive, send)

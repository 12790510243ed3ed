"""Request id: read from `X-Request-ID` (or made), kept in a contextvar, echoed, propagated."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

import httpx
from opentelemetry.trace import TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oncall_common.telemetry import traced_client

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _current.get()


def set_request_id(value: str | None) -> object:
    """Set the id for work outside a request (background workers); returns a reset token."""
    return _current.set(value)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(raw: str | None) -> str:
    """An incoming id is kept only if it is short and plain; anything else is replaced."""
    if raw and _VALID.match(raw):
        return raw
    return new_request_id()


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                raw = value.decode("latin-1")
                break
        request_id = accept_request_id(raw)
        token = _current.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)


async def _propagate(request: httpx.Request) -> None:
    request_id = current_request_id()
    if request_id and HEADER not in request.headers:
        request.headers[HEADER] = request_id


def async_client(
    *, transport: httpx.AsyncBaseTransport | None = None, tracer_provider: TracerProvider | None = None,
    **kwargs: object,
) -> httpx.AsyncClient:
    """An httpx.AsyncClient that carries the current request id and trace to the service it calls."""
    hooks = dict(kwargs.pop("event_hooks", None) or {})  # type: ignore[arg-type]
    hooks["request"] = [_propagate, *hooks.get("request", [])]
    return traced_client(transport, tracer_provider=tracer_provider, event_hooks=hooks, **kwargs)

"""Security headers, request body limits and bearer-token auth, shared by every service."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence

from fastapi import HTTPException, status
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
# The interactive docs page loads its own script and styles; it gets a looser policy.
_DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_docs = scope.get("path", "").startswith(_DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS:
                    if is_docs and name == b"content-security-policy":
                        continue
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Answers 413 as soon as a request body passes `max_bytes` (declared or streamed)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._reject(scope, receive, send)
                    return
        seen = 0
        rejected = False
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 already went out; whatever the app answers now is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def limited_receive() -> Message:
            nonlocal seen, rejected
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Answer here: frameworks turn an exception raised while reading the body
                    # into their own 400 ("error parsing the body"), which would hide the reason.
                    if not started and not rejected:
                        await self._reject(scope, receive, send)
                    rejected = True
                    raise BodyTooLarge()
            return message

        try:
            await self.app(scope, limited_receive, tracked_send)
        except BodyTooLarge:
            if not started and not rejected:
                await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"request body larger than {self.max_bytes} bytes"},
            status_code=413,
        )
        await response(scope, receive, send)


class BearerAuth(HTTPBearer):
    """FastAPI dependency: `Authorization: Bearer <token>` checked in constant time.

    FastAPI's `HTTPBearer` reads the header and documents the scheme in OpenAPI (named after the
    token variable); it runs with `auto_error=False` so that the answers stay ours: with no token
    configured the endpoints stay open (local use) and a warning is logged once; missing
    credentials answer 401 (with `WWW-Authenticate: Bearer`), wrong ones 403. `token` may also be
    several tokens (unset ones ignored), any of which is accepted: e.g. a read token or the write one.
    """

    def __init__(self, token: str | None | Sequence[str | None], *, name: str) -> None:
        super().__init__(scheme_name=name, description=f"the {name} value", auto_error=False)
        given = [token] if token is None or isinstance(token, str) else list(token)
        self.tokens = tuple(t.encode() for t in given if t)
        self.name = name
        if not self.tokens:
            log.warning("%s is not set: its endpoints accept requests without a token", name)

    async def __call__(self, request: HTTPConnection) -> None:  # type: ignore[override]
        if not self.tokens:
            return
        credentials = await super().__call__(request)
        if credentials is None:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="missing bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        offered = credentials.credentials.encode()
        if not any([hmac.compare_digest(offered, t) for t in self.tokens]):  # every one compared
            raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="invalid token")

"""The signed session cookie, the per-session CSRF token and the sign-in form's token, all signed
by itsdangerous (URLSafeTimedSerializer, HMAC with CONSOLE_SECRET) with a salt per purpose, so a
value signed for one purpose is refused for every other. Pure: no Redis, no HTTP. The cookie
carries the user's session epoch; the caller compares it with the stored one."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE = "oncall_console"

Purpose = Literal["session", "csrf", "login-csrf"]


def _serializer(secret: bytes, purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"oncall-console.{purpose}")


def _unsign(secret: bytes, purpose: Purpose, value: str, *, max_age: float | None = None) -> object:
    """The signed value, or None when it is malformed, forged, signed for another purpose or
    (with max_age) older than that."""
    try:
        return _serializer(secret, purpose).loads(value, max_age=max_age)
    except (BadData, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Session:
    user: str
    epoch: int
    issued_at: float
    expires_at: float
    sid: str  # random per sign-in; the CSRF token is bound to it


def new_session(user: str, epoch: int, *, now: float, ttl_s: float) -> Session:
    return Session(user=user, epoch=epoch, issued_at=now, expires_at=now + ttl_s, sid=secrets.token_urlsafe(16))


def encode(session: Session, secret: bytes) -> str:
    return _serializer(secret, "session").dumps({"u": session.user, "e": session.epoch, "iat": session.issued_at,
                                                 "exp": session.expires_at, "sid": session.sid})


def decode(cookie: str, secret: bytes, *, now: float) -> Session | None:
    """The session, or None when the cookie is malformed, forged or expired. The expiry is the one
    signed into the cookie at sign-in (CONSOLE_SESSION_TTL_S then), checked against `now`."""
    data = _unsign(secret, "session", cookie)
    if not isinstance(data, dict):
        return None
    try:
        session = Session(user=str(data["u"]), epoch=int(data["e"]), issued_at=float(data["iat"]),
                          expires_at=float(data["exp"]), sid=str(data["sid"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if now < session.expires_at else None


def csrf_token(session: Session, secret: bytes) -> str:
    return _serializer(secret, "csrf").dumps(session.sid)


def csrf_ok(session: Session, secret: bytes, token: str | None) -> bool:
    """The token was signed for this session's CSRF (any other session, purpose or key: refused)."""
    sid = _unsign(secret, "csrf", token) if token else None
    return isinstance(sid, str) and hmac.compare_digest(sid, session.sid)


# Before sign-in there is no session: the sign-in form's token is tied to a random nonce kept in
# a short-lived cookie of its own (a forged sign-in from another site has neither).
LOGIN_COOKIE = "oncall_console_login"
LOGIN_NONCE_TTL_S = 3600  # the nonce cookie's Max-Age, and the longest a sign-in token is accepted


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def login_token(nonce: str, secret: bytes) -> str:
    return _serializer(secret, "login-csrf").dumps(nonce)


def login_token_ok(nonce: str | None, secret: bytes, token: str | None) -> bool:
    signed = _unsign(secret, "login-csrf", token, max_age=LOGIN_NONCE_TTL_S) if nonce and token else None
    return isinstance(signed, str) and hmac.compare_digest(signed, nonce or "")

"""The signed session cookie and the per-session CSRF token (HMAC-SHA256 with CONSOLE_SECRET).
Pure: no Redis, no HTTP. The cookie carries the user's session epoch; the caller compares it
with the stored one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

COOKIE = "oncall_console"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: str, payload: bytes) -> bytes:
    return hmac.new(secret, purpose.encode() + b"\0" + payload, hashlib.sha256).digest()


@dataclass(frozen=True)
class Session:
    user: str
    epoch: int
    issued_at: float
    expires_at: float
    sid: str  # random per sign-in; the CSRF token is derived from it


def new_session(user: str, epoch: int, *, now: float, ttl_s: float) -> Session:
    return Session(user=user, epoch=epoch, issued_at=now, expires_at=now + ttl_s, sid=secrets.token_urlsafe(16))


def encode(session: Session, secret: bytes) -> str:
    payload = json.dumps({"u": session.user, "e": session.epoch, "iat": session.issued_at,
                          "exp": session.expires_at, "sid": session.sid}, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, 'session', payload))}"


def decode(cookie: str, secret: bytes, *, now: float) -> Session | None:
    """The session, or None when the cookie is malformed, forged or expired."""
    try:
        body, mac = cookie.split(".", 1)
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(mac), _mac(secret, "session", payload)):
            return None
        data = json.loads(payload)
        session = Session(user=str(data["u"]), epoch=int(data["e"]), issued_at=float(data["iat"]),
                          expires_at=float(data["exp"]), sid=str(data["sid"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if now < session.expires_at else None


def csrf_token(session: Session, secret: bytes) -> str:
    return _b64(_mac(secret, "csrf", session.sid.encode()))


def csrf_ok(session: Session, secret: bytes, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(session, secret), token or "")


# Before sign-in there is no session: the sign-in form's token is tied to a random nonce kept in
# a short-lived cookie of its own (a forged sign-in from another site has neither).
LOGIN_COOKIE = "oncall_console_login"


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def login_token(nonce: str, secret: bytes) -> str:
    return _b64(_mac(secret, "login-csrf", nonce.encode()))


def login_token_ok(nonce: str | None, secret: bytes, token: str | None) -> bool:
    return bool(nonce) and bool(token) and hmac.compare_digest(login_token(nonce or "", secret), token or "")

"""Setting and clearing the console's cookies (HttpOnly, SameSite=Strict, Secure on https)."""

from __future__ import annotations

from starlette.responses import Response

from agent_service.console import session as sessions
from agent_service.console.config import ConsoleConfig


def set_session(response: Response, value: str, config: ConsoleConfig) -> None:
    response.set_cookie(sessions.COOKIE, value, max_age=config.session_ttl_s, path="/console",
                        httponly=True, samesite="strict", secure=config.secure_cookie)


def clear_session(response: Response, config: ConsoleConfig) -> None:
    response.delete_cookie(sessions.COOKIE, path="/console", httponly=True, samesite="strict",
                           secure=config.secure_cookie)


def set_login_nonce(response: Response, nonce: str, config: ConsoleConfig) -> None:
    response.set_cookie(sessions.LOGIN_COOKIE, nonce, max_age=sessions.LOGIN_NONCE_TTL_S, path="/console/login",
                        httponly=True, samesite="strict", secure=config.secure_cookie)

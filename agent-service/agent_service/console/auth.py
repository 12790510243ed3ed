"""Who is asking: the signed-in user of a request (cookie → session → the user's stored epoch),
and for every POST the form with its CSRF token checked and the role needed."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from agent_service.console import session as sessions
from agent_service.console.config import ConsoleConfig
from agent_service.console.errors import ConsoleRefusal
from agent_service.console.forms import FormError, read_form
from agent_service.console.roles import Role, allows
from agent_service.console.users import User, UserStore

LOGIN_PATH = "/console/login"


@dataclass(frozen=True)
class Visitor:
    user: User
    session: sessions.Session
    csrf: str

    def can(self, role: Role) -> bool:
        return allows(self.user.role, role)


@dataclass(frozen=True)
class Action:
    visitor: Visitor
    form: dict[str, str]


def users_of(request: Request) -> UserStore:
    return UserStore(request.app.state.agent.redis)


async def current_visitor(request: Request, config: ConsoleConfig) -> Visitor | None:
    """The signed-in user, or None: no cookie, a forged or expired one, or one from before the
    user's last password or role change (or removal)."""
    cookie = request.cookies.get(sessions.COOKIE)
    session = sessions.decode(cookie, config.secret, now=time.time()) if cookie else None
    if session is None:
        return None
    user = await users_of(request).get(session.user)
    if user is None or user.epoch != session.epoch:
        return None
    return Visitor(user=user, session=session, csrf=sessions.csrf_token(session, config.secret))


def reader(config: ConsoleConfig) -> Callable[[Request], Awaitable[Visitor]]:
    """Any signed-in user (a GET): without one, a redirect to the sign-in page."""

    async def dependency(request: Request) -> Visitor:
        visitor = await current_visitor(request, config)
        if visitor is None:
            raise ConsoleRefusal(303, "sign in first", sign_in=True)
        return visitor

    return dependency


def actor(config: ConsoleConfig, role: Role) -> Callable[[Request], Awaitable[Action]]:
    """A POST: signed in (401), a readable form (4xx), its CSRF token right (403), the role (403)."""

    async def dependency(request: Request) -> Action:
        visitor = await current_visitor(request, config)
        if visitor is None:
            raise ConsoleRefusal(401, "not signed in, or the session has ended: sign in again")
        try:
            form = await read_form(request)
        except FormError as exc:
            raise ConsoleRefusal(exc.status_code, exc.reason) from None
        token = form.get("csrf") or request.headers.get("x-csrf-token")
        if not sessions.csrf_ok(visitor.session, config.secret, token):
            raise ConsoleRefusal(403, "missing or wrong CSRF token: reload the page and try again")
        if not visitor.can(role):
            raise ConsoleRefusal(403, f"this needs the {role.value} role; you are {visitor.user.role.value}")
        return Action(visitor=visitor, form=form)

    return dependency

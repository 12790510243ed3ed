"""GET/POST /console/login, POST /console/logout."""

# No `from __future__ import annotations`: the dependency aliases are built inside the router
# factories, and FastAPI must see them evaluated.
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from agent_service.console import cookies
from agent_service.console import session as sessions
from agent_service.console.auth import Action, actor, current_visitor, users_of
from agent_service.console.errors import ConsoleRefusal
from agent_service.console.config import ConsoleConfig
from agent_service.console.forms import FormError, read_form
from agent_service.console.passwords import verify_password
from agent_service.console.ratelimit import LoginLimiter
from agent_service.console.render import Pages
from agent_service.console.roles import Role, valid_name

HOME = "/console/incidents"


def safe_next(target: str | None) -> str:
    """Only a console path (never another site) after sign-in."""
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def login_router(config: ConsoleConfig, pages: Pages) -> APIRouter:
    router = APIRouter()

    def form_page(request: Request, *, status_code: int = 200, error: str = "", name: str = "",
                  headers: dict[str, str] | None = None) -> Response:
        nonce = sessions.new_nonce()
        response = pages.html("login.html", status_code=status_code, headers=headers, visitor=None,
                              token=sessions.login_token(nonce, config.secret), error=error, name=name,
                              next=safe_next(request.query_params.get("next")))
        cookies.set_login_nonce(response, nonce, config)
        return response

    @router.get("/login", include_in_schema=False)
    async def login_form(request: Request) -> Response:
        if await current_visitor(request, config) is not None:
            return RedirectResponse(HOME, status_code=303)
        return form_page(request)

    @router.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        try:
            form = await read_form(request)
        except FormError as exc:
            raise ConsoleRefusal(exc.status_code, exc.reason) from None
        if not sessions.login_token_ok(request.cookies.get(sessions.LOGIN_COOKIE), config.secret, form.get("csrf")):
            raise ConsoleRefusal(403, "missing or wrong CSRF token: reload the sign-in page and try again")
        name, password = form.get("username", "").strip().lower(), form.get("password", "")
        address = request.client.host if request.client else "unknown"
        limiter = LoginLimiter(request.app.state.agent.redis, max_attempts=config.login_max_attempts,
                               window_s=config.login_window_s)
        wait = await limiter.retry_after(name, address)
        if wait is not None:
            return form_page(request, status_code=429, name=name, headers={"Retry-After": str(wait)},
                             error=f"too many failed sign-ins: try again in {wait} s")
        user = await users_of(request).get(name) if valid_name(name) else None
        if not await verify_password(user.password_hash if user else None, password) or user is None:
            await limiter.failed(name, address)
            return form_page(request, status_code=401, name=name, error="wrong user name or password")
        await limiter.succeeded(name)
        session = sessions.new_session(user.name, user.epoch, now=time.time(), ttl_s=config.session_ttl_s)
        response = RedirectResponse(safe_next(form.get("next")), status_code=303)
        cookies.set_session(response, sessions.encode(session, config.secret), config)
        return response

    @router.post("/logout", include_in_schema=False)
    async def logout(action: Annotated[Action, Depends(actor(config, Role.viewer))]) -> Response:
        response = RedirectResponse("/console/login", status_code=303)
        cookies.clear_session(response, config)
        return response

    return router

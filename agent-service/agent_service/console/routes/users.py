"""The admin's users page: add, change role, set password, remove (each ends that user's sessions)."""

# No `from __future__ import annotations`: the dependency aliases are built inside the router
# factories, and FastAPI must see them evaluated.
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from agent_service.console.auth import Action, Visitor, actor, reader, users_of
from agent_service.console.config import ConsoleConfig
from agent_service.console.errors import ConsoleRefusal, refusing
from agent_service.console.passwords import WeakPassword
from agent_service.console.render import Pages
from agent_service.console.roles import Role
from agent_service.console.users import UserError

USERS_PAGE = "/console/users"


def _role(text: str | None) -> Role:
    try:
        return Role(text or "")
    except ValueError:
        raise ConsoleRefusal(422, "a role is viewer, responder or admin") from None


def users_router(config: ConsoleConfig, pages: Pages) -> APIRouter:
    router = APIRouter()
    Reader = Annotated[Visitor, Depends(reader(config))]
    Admin = Annotated[Action, Depends(actor(config, Role.admin))]

    def not_self(action: Action, name: str) -> None:
        if action.visitor.user.name == name:
            raise ConsoleRefusal(409, "you cannot remove yourself or change your own role here (use oncall-admin)")

    @router.get("/users", include_in_schema=False)
    async def users_page(request: Request, visitor: Reader) -> Response:
        if not visitor.can(Role.admin):
            raise ConsoleRefusal(403, "managing users needs the admin role")
        return pages.html("users.html", visitor=visitor, users=await users_of(request).list(), roles=list(Role))

    @router.post("/users", include_in_schema=False)
    async def add_user(request: Request, action: Admin) -> Response:
        form = action.form
        with refusing({UserError: 422, WeakPassword: 422}):
            await users_of(request).add(form.get("username", "").strip(), role=_role(form.get("role")),
                                        password=form.get("password", ""))
        return RedirectResponse(USERS_PAGE, status_code=303)

    @router.post("/users/{name}/role", include_in_schema=False)
    async def set_role(request: Request, name: str, action: Admin) -> Response:
        not_self(action, name)
        with refusing({UserError: 404}):
            await users_of(request).set_role(name, _role(action.form.get("role")))
        return RedirectResponse(USERS_PAGE, status_code=303)

    @router.post("/users/{name}/password", include_in_schema=False)
    async def set_password(request: Request, name: str, action: Admin) -> Response:
        with refusing({WeakPassword: 422, UserError: 404}):
            await users_of(request).set_password(name, action.form.get("password", ""))
        return RedirectResponse(USERS_PAGE, status_code=303)

    @router.post("/users/{name}/remove", include_in_schema=False)
    async def remove(request: Request, name: str, action: Admin) -> Response:
        not_self(action, name)
        with refusing({UserError: 404}):
            await users_of(request).remove(name)
        return RedirectResponse(USERS_PAGE, status_code=303)

    return router

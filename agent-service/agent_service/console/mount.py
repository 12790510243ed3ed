"""`mount_console(app, settings)`: the console's routes, static files and refusal handler on the
agent's app (called once by the composition root when CONSOLE_ENABLED)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from agent_service.console.ask import AskJobs
from agent_service.console.config import ConsoleConfig
from agent_service.console.errors import ConsoleRefusal
from agent_service.console.render import Pages
from agent_service.console.routes.ask import ask_router
from agent_service.console.routes.incidents import incidents_router
from agent_service.console.routes.login import login_router
from agent_service.console.routes.proposals import proposals_router
from agent_service.console.routes.signals import signals_router
from agent_service.console.routes.users import users_router
from agent_service.settings import Settings

STATIC = Path(__file__).parent / "static"


def login_url(request: Request) -> str:
    """The sign-in page, coming back to this page after (for an htmx poll: the page it polls from)."""
    parts = urlsplit(request.headers.get("hx-current-url") or str(request.url))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"/console/login?next={quote(target, safe='')}"


def mount_console(app: FastAPI, settings: Settings) -> None:
    config = ConsoleConfig.from_settings(settings)
    pages = Pages()
    jobs = AskJobs(timeout_s=config.ask_timeout_s)
    for router in (login_router(config, pages), incidents_router(config, pages), users_router(config, pages),
                   ask_router(config, pages, jobs), signals_router(config, pages),
                   proposals_router(config)):
        app.include_router(router, prefix="/console")
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    @app.get("/console", include_in_schema=False)
    @app.get("/console/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/console/incidents", status_code=303)

    @app.exception_handler(ConsoleRefusal)
    async def refused(request: Request, exc: ConsoleRefusal) -> Response:
        if exc.sign_in:
            login = login_url(request)
            if request.headers.get("hx-request"):  # a poll: the whole page goes to sign-in, not the fragment
                return Response(status_code=401, headers={"HX-Redirect": login})
            return RedirectResponse(login, status_code=303)
        return pages.html("error.html", status_code=exc.status_code, headers=exc.headers, visitor=None,
                          status=exc.status_code, reason=exc.reason)

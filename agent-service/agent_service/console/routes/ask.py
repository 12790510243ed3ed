""""Ask the copilot": window, backend/frontend, question → a background analysis whose page polls
its progress."""
# No `from __future__ import annotations`: the dependency aliases are built inside the router
# factory, and FastAPI must see them evaluated.
import time
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from agent_service.api.deps import AgentDep
from agent_service.console.ask import AskJobs
from agent_service.console.auth import Action, Visitor, actor, reader
from agent_service.console.config import ConsoleConfig
from agent_service.console.errors import ConsoleRefusal
from agent_service.console.render import Pages
from agent_service.console.roles import Role
from agent_service.console.roles import timeline_actor
from agent_service.models import AnalyzeRequest
from agent_service.orchestrator import Busy
from agent_service.window import MAX_MINUTES, window_minutes

WINDOWS = ("5m", "15m", "30m", "1h", "3h", "6h", "24h")


def ask_request(form: dict[str, str]) -> AnalyzeRequest:
    """The form as an analysis request; a bad window or an over-long field is a 422."""
    try:
        request = AnalyzeRequest(window=form.get("window") or "15m", backend=form.get("backend", "").strip() or None,
                                 frontend=form.get("frontend", "").strip() or None,
                                 question=form.get("question", "").strip() or None)
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][0]) for e in exc.errors())
        raise ConsoleRefusal(422, f"check these fields: {fields}") from None
    if not 1 <= window_minutes(request.window) <= MAX_MINUTES:
        raise ConsoleRefusal(422, "the window is between 1m and 24h")
    return request


def ask_router(config: ConsoleConfig, pages: Pages, jobs: AskJobs) -> APIRouter:
    router = APIRouter()
    Reader = Annotated[Visitor, Depends(reader(config))]
    Responder = Annotated[Action, Depends(actor(config, Role.responder))]

    @router.get("/ask", include_in_schema=False)
    async def ask_form(visitor: Reader) -> Response:
        return pages.html("ask.html", visitor=visitor, windows=WINDOWS)

    @router.post("/ask", include_in_schema=False)
    async def ask(action: Responder, agent: AgentDep) -> Response:
        request = ask_request(action.form)
        try:
            slot = agent.analyzer.limiter.try_slot()
        except Busy as exc:
            raise ConsoleRefusal(429, f"too many analyses running ({exc}); try again shortly",
                                 headers={"Retry-After": "5"}) from None
        job = await jobs.start(agent.redis, agent.analyzer, slot, request, by=timeline_actor(action.visitor.user.name))
        return RedirectResponse(f"/console/ask/{job.id}", status_code=303)

    async def job_context(agent: AgentDep, job_id: str) -> dict[str, object]:
        job = await AskJobs.get(agent.redis, job_id)
        if job is None:
            raise ConsoleRefusal(404, "no such analysis (they are kept for a day)")
        report = await agent.reports.get(job.report_id) if job.report_id else None
        elapsed = (job.finished_at or time.time()) - job.started_at
        return {"job": job, "report": report, "elapsed_s": elapsed}

    @router.get("/ask/{job_id}", include_in_schema=False)
    async def job_page(job_id: str, visitor: Reader, agent: AgentDep) -> Response:
        return pages.html("ask_job.html", visitor=visitor, **await job_context(agent, job_id))

    @router.get("/ask/{job_id}/progress", include_in_schema=False)
    async def job_progress(job_id: str, visitor: Reader, agent: AgentDep) -> Response:
        return pages.html("_ask_progress.html", **await job_context(agent, job_id))

    return router

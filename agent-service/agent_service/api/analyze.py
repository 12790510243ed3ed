"""POST /analyze: run the four specialists and the synthesis; JSON or `?format=markdown`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response

from oncall_common.security import BearerAuth
from agent_service.api.deps import AnalyzerDep, slot_or_429
from agent_service.models import AnalyzeRequest, IncidentReport
from agent_service.report.markdown import render
from agent_service.window import MAX_MINUTES, window_minutes

Format = Annotated[Literal["json", "markdown"], Query(description="json (default) or markdown")]

MARKDOWN = {200: {"content": {"text/markdown": {}}, "description": "The report (JSON, or markdown with ?format=markdown)"}}


def as_format(report: IncidentReport, fmt: str) -> IncidentReport | Response:
    if fmt == "markdown":
        return PlainTextResponse(render(report), media_type="text/markdown; charset=utf-8")
    return report


def analyze_router(auth: BearerAuth) -> APIRouter:
    router = APIRouter(tags=["analyze"], dependencies=[Depends(auth)])

    @router.post("/analyze", response_model=IncidentReport, responses=MARKDOWN)  # type: ignore[arg-type]
    async def analyze(
        analyzer: AnalyzerDep,
        body: Annotated[AnalyzeRequest | None, Body()] = None,
        format: Format = "json",  # noqa: A002 - the query parameter's public name
    ) -> IncidentReport | Response:
        body = body or AnalyzeRequest()
        if not 1 <= window_minutes(body.window) <= MAX_MINUTES:
            # FastAPI's own 422 shape (the schema the route declares): a list of {loc, msg, type}.
            raise HTTPException(status_code=422, detail=[{
                "loc": ["body", "window"], "type": "value_error",
                "msg": f"window must be between 1m and 24h, got {body.window!r}"}])
        async with slot_or_429(analyzer):
            report = await analyzer.analyze(body)
        return as_format(report, format)

    return router

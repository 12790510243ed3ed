"""POST /analyze: run the four specialists and the synthesis; JSON or `?format=markdown`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response

from agent_service.models import AnalyzeRequest, IncidentReport
from agent_service.orchestrator import Analyzer, Busy
from agent_service.report.markdown import render
from agent_service.tools.ingestion import window_minutes

router = APIRouter()

MAX_WINDOW_MINUTES = 24 * 60

Format = Annotated[Literal["json", "markdown"], Query(description="json (default) or markdown")]

MARKDOWN = {200: {"content": {"text/markdown": {}}, "description": "The report (JSON, or markdown with ?format=markdown)"}}


def as_format(report: IncidentReport, fmt: str) -> IncidentReport | Response:
    if fmt == "markdown":
        return PlainTextResponse(render(report), media_type="text/markdown; charset=utf-8")
    return report


@router.post("/analyze", response_model=IncidentReport, responses=MARKDOWN)  # type: ignore[arg-type]
async def analyze(
    request: Request,
    body: Annotated[AnalyzeRequest | None, Body()] = None,
    format: Format = "json",  # noqa: A002 - the query parameter's public name
) -> IncidentReport | Response:
    analyzer: Analyzer = request.app.state.analyzer
    body = body or AnalyzeRequest()
    if not 1 <= window_minutes(body.window) <= MAX_WINDOW_MINUTES:
        raise HTTPException(status_code=422, detail=f"window must be between 1m and 24h, got {body.window!r}")
    try:
        slot = analyzer.limiter.try_slot()
    except Busy as exc:
        raise HTTPException(status_code=429, detail=f"too many analyses: {exc}", headers={"Retry-After": "5"}) from exc
    async with slot:
        report = await analyzer.analyze(body)
    return as_format(report, format)

"""GET /reports/{id}: a stored report, JSON or `?format=markdown`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response

from agent_service.api.analyze import MARKDOWN, Format, as_format
from agent_service.models import IncidentReport
from agent_service.report.store import ReportStore

router = APIRouter()


@router.get("/reports/{report_id}", response_model=IncidentReport, responses=MARKDOWN)  # type: ignore[arg-type]
async def get_report(
    request: Request,
    report_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The report id")],
    format: Format = "json",  # noqa: A002
) -> IncidentReport | Response:
    store: ReportStore = request.app.state.reports
    report = await store.get(report_id)
    if report is None:
        raise HTTPException(status_code=404, detail="no such report (unknown id or expired)")
    return as_format(report, format)

"""GET /reports/{id}: a stored report, JSON or `?format=markdown`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import Response

from oncall_common.security import BearerAuth
from agent_service.api.analyze import MARKDOWN, Format, as_format
from agent_service.api.deps import ReportsDep
from agent_service.models import IncidentReport


def reports_router(auth: BearerAuth) -> APIRouter:
    router = APIRouter(tags=["reports"], dependencies=[Depends(auth)])

    @router.get("/reports/{report_id}", response_model=IncidentReport, responses=MARKDOWN)  # type: ignore[arg-type]
    async def get_report(
        reports: ReportsDep,
        report_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The report id")],
        format: Format = "json",  # noqa: A002
    ) -> IncidentReport | Response:
        report = await reports.get(report_id)
        if report is None:
            raise HTTPException(status_code=404, detail="no such report (unknown id or expired)")
        return as_format(report, format)

    return router

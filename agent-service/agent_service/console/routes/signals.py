"""Golden signals now: per backend, the last minutes with their charts."""
# No `from __future__ import annotations`: the dependency aliases are built inside the router
# factory, and FastAPI must see them evaluated.
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from agent_service.api.deps import AgentDep
from agent_service.console.auth import Visitor, reader
from agent_service.console.config import ConsoleConfig
from agent_service.console.render import Pages
from agent_service.console.signals import golden_signals
from agent_service.ingestion_client import IngestionError


def signals_router(config: ConsoleConfig, pages: Pages) -> APIRouter:
    router = APIRouter()
    Reader = Annotated[Visitor, Depends(reader(config))]

    @router.get("/signals", include_in_schema=False)
    async def signals(visitor: Reader, agent: AgentDep) -> Response:
        try:
            rows = await golden_signals(agent.ingestion, now=datetime.now(UTC), error_pct=config.error_5xx_warning_pct,
                                        p95_ms=config.latency_p95_warning_ms)
        except IngestionError as exc:
            return pages.html("signals.html", status_code=503, headers={"Retry-After": "5"}, visitor=visitor, rows=[],
                              error=f"ingestion-service did not answer: {exc}")
        return pages.html("signals.html", visitor=visitor, rows=rows, error="")

    return router

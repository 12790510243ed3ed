"""The real app (real redis-server, the rules engine) over a fake ingestion whose breakdown shows
one refusing server among healthy peers: an analysis that proposes to drain it, as an incident."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from agent_service.app import create_app
from agent_service.settings import Settings
from tests.agent.diagnosis.builders import END, answer, scope, stats
from tests.agent.fake_ingestion import FakeIngestion

TOKEN = "remediation-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def one_bad_server(backend: str, bad: str, healthy: tuple[str, ...]) -> dict[str, Any]:
    servers = {name: stats(3000) for name in healthy} | {bad: stats(600, e5=500, codes={503: 500}, terms={"SC--": 500})}
    total = sum(s["requests"] for s in servers.values())
    now = stats(total, e5=500, codes={503: 500}, terms={"SC--": 500})
    return answer(scope("site", "", now, stats(30000)), scope("backend", backend, now, stats(30000)),
                  *(scope("server", f"{backend}/{n}", s, stats(10000)) for n, s in servers.items()))


@asynccontextmanager
async def agent(settings: Settings, breakdown: dict[str, Any], **kw: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, http=FakeIngestion().set("breakdown", breakdown).client(), **kw)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://agent", headers=AUTH) as client:
            yield app, client


async def incident_from_analysis(client: httpx.AsyncClient, **report_update: Any) -> dict[str, Any]:
    """POST /analyze, then POST /incidents with its report (fields replaced by `report_update`)."""
    analysed = await client.post("/analyze", json={"window": "10m", "end": END.isoformat()})
    assert analysed.status_code == 200, analysed.text
    report = {**analysed.json(), **report_update}
    created = await client.post("/incidents", json={"title": report["title"][:200], "report": report})
    assert created.status_code == 201, created.text
    return created.json()

"""Issue 14, findings 5 and 7 (agent part): every incident, report, post-mortem and handoff read
needs API_TOKEN when it is set; the agent sends INGESTION_READ_TOKEN on its ingestion queries;
a query time outside [2000, now + 1 day] or an extreme window is a 422 with the reason."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi.testclient import TestClient

from agent_service.ingestion_client import IngestionClient
from tests.hardening.apps import agent_app

pytestmark = pytest.mark.real

API = "api-tok-reads"
READS = ["/incidents", "/incidents?status=OPEN", "/incidents/1", "/incidents/1/postmortem",
         "/incidents/1/handoff", "/reports/" + "0" * 32]


@pytest.mark.parametrize("path", READS)
def test_every_incident_and_report_read_needs_api_token(path: str, redis_url: str) -> None:
    with TestClient(agent_app(redis_url, api_token=API), raise_server_exceptions=False) as client:
        opened = client.post("/incidents", json={"title": "db down"}, headers={"Authorization": f"Bearer {API}"})
        assert opened.status_code == 201, opened.text
        missing = client.get(path)
        wrong = client.get(path, headers={"Authorization": "Bearer nope"})
        good = client.get(path, headers={"Authorization": f"Bearer {API}"})
    assert missing.status_code == 401, (path, missing.status_code, missing.text)
    assert wrong.status_code == 403, (path, wrong.status_code)
    assert good.status_code in (200, 404), (path, good.status_code, good.text)


def test_reads_stay_open_when_no_api_token_is_set(redis_url: str) -> None:
    with TestClient(agent_app(redis_url), raise_server_exceptions=False) as client:
        assert client.get("/incidents").status_code == 200


def test_ingestion_client_sends_the_read_token_on_every_request() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        return httpx.Response(200, json={"window_seconds": 900, "total_requests": 0})

    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://ingestion")
        client = IngestionClient(http, token="read-tok-9")
        assert await client.health()
        await client.overview(window="15m")
        await client.aclose()

    asyncio.run(run())
    assert seen == ["Bearer read-tok-9", "Bearer read-tok-9"]


def test_ingestion_client_sends_no_authorization_without_a_token() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={})

    async def run() -> None:
        client = IngestionClient(httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://i"))
        await client.overview(window="15m")
        await client.aclose()

    asyncio.run(run())
    assert seen == [None]


@pytest.mark.parametrize("end", ["0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "9999-12-31T23:59:59Z",
                                 "2999-01-01T00:00:00"])
def test_analyze_end_out_of_range_is_422_with_reason(end: str, redis_url: str) -> None:
    with TestClient(agent_app(redis_url), raise_server_exceptions=False) as client:
        r = client.post("/analyze", json={"end": end, "window": "15m"})
    assert r.status_code == 422, (end, r.status_code, r.text)
    assert "sane range" in r.text


@pytest.mark.parametrize("window", ["0m", "0h", "9999h", "1441m", "25h", "99999m", "-1m", "1d"])
def test_analyze_window_extremes_are_422(window: str, redis_url: str) -> None:
    with TestClient(agent_app(redis_url), raise_server_exceptions=False) as client:
        r = client.post("/analyze", json={"window": window, "end": "2026-01-01T00:00:00Z"})
    assert r.status_code == 422, (window, r.status_code, r.text)

"""POST /analyze and GET /reports/{id}: auth, validation, concurrency limit, markdown, Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from agent_service.app import create_app
from agent_service.engine import Usage
from agent_service.keys import report_key
from agent_service.models import Finding
from agent_service.rules import RulesEngine
from tests.agent.diagnosis.builders import answer, scope, stats
from tests.agent.fake_ingestion import FakeIngestion, overview, response_times
from tests.agent.helpers import settings
from tests.support.servers import serve_app

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def ingestion() -> FakeIngestion:
    fake = FakeIngestion()
    fake.set("overview", overview(9000, e5=1200, previous=overview(8800)))
    fake.set("response_times", response_times(9000, p95=120, p99=240))
    failing = stats(9000, e5=1200, codes={500: 1200})
    fake.set("breakdown", answer(scope("site", "", failing, stats(52800)), scope("backend", "be_api", failing, stats(52800))))
    return fake


def app_with(fake: FakeIngestion, redis: Any, engine: Any = None, **overrides: Any):
    cfg = settings(api_token=TOKEN, llm_engine="rules", **{"alert_worker_enabled": False, **overrides})
    return create_app(cfg, redis=redis, http=fake.client(), engine=engine)


@asynccontextmanager
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running (where its parts are built), over ASGI."""
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent.test") as http:
            yield http


async def test_auth_missing_is_401_and_wrong_is_403(fake_redis: Any) -> None:
    async with client(app_with(ingestion(), fake_redis)) as http:
        assert (await http.post("/analyze", json={})).status_code == 401
        assert (await http.post("/analyze", json={}, headers={"Authorization": "Bearer nope"})).status_code == 403
        assert (await http.get("/reports/" + "a" * 32)).status_code == 401
        assert (await http.post("/analyze", json={}, headers=AUTH)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"window": "forever"}, {"window": "0m"}, {"window": "25h"}, {"window": "15m", "surprise": True}, {"end": "not a date"}, {"question": "x" * 3000}, [1, 2]],
)
async def test_bad_bodies_are_422_with_the_reason(fake_redis: Any, body: Any) -> None:
    async with client(app_with(ingestion(), fake_redis)) as http:
        response = await http.post("/analyze", json=body, headers=AUTH)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list) and all({"loc", "msg", "type"} <= set(d) for d in detail), detail


async def test_empty_body_and_markdown_format(fake_redis: Any) -> None:
    async with client(app_with(ingestion(), fake_redis)) as http:
        response = await http.post("/analyze", headers=AUTH)
        assert response.status_code == 200 and response.json()["overall_severity"] == "critical"
        markdown = await http.post("/analyze?format=markdown", json={"window": "5m"}, headers=AUTH)
        assert markdown.status_code == 200
        assert markdown.headers["content-type"].startswith("text/markdown")
        assert markdown.text.startswith("# [CRITICAL]") and "## What to do first" in markdown.text
        assert (await http.post("/analyze?format=xml", headers=AUTH)).status_code == 422


class GatedEngine(RulesEngine):
    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def investigate(self, spec, tools, context):  # type: ignore[no-untyped-def]
        self.entered.set()
        await self.gate.wait()
        return Finding(specialist=spec.name, severity="ok", summary="fine"), Usage()


async def test_concurrency_limit_answers_429_with_retry_after(fake_redis: Any) -> None:
    engine = GatedEngine()
    app = app_with(ingestion(), fake_redis, engine=engine, max_analyses=1)
    async with client(app) as http:
        first = asyncio.create_task(http.post("/analyze", json={}, headers=AUTH))
        await asyncio.wait_for(engine.entered.wait(), 5)
        refused = await http.post("/analyze", json={}, headers=AUTH)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "5"
        engine.gate.set()
        assert (await first).status_code == 200
        assert (await http.post("/analyze", json={}, headers=AUTH)).status_code == 200


@pytest.mark.real
def test_report_round_trip_through_real_redis(redis_url: str) -> None:
    app = create_app(
        settings(api_token=TOKEN, llm_engine="rules", redis_url=redis_url, report_ttl_s=600),
        http=ingestion().client(),
    )
    with serve_app(app) as base, httpx.Client(base_url=base, headers=AUTH, timeout=10) as http:
        created = http.post("/analyze", json={"window": "15m", "question": "why is checkout failing?"})
        assert created.status_code == 200
        report = created.json()
        assert report["sources"]["redis"] == "ok"
        fetched = http.get(f"/reports/{report['id']}")
        assert fetched.status_code == 200 and fetched.json() == report
        markdown = http.get(f"/reports/{report['id']}?format=markdown")
        assert "why is checkout failing?" in markdown.text
        assert http.get("/reports/" + "0" * 32).status_code == 404
        assert http.get("/reports/../../etc").status_code == 404
        assert http.get("/reports/NOT-AN-ID").status_code == 422
        metrics = http.get("/prometheus/metrics").text
        assert 'oncall_analyses_total{engine="rules",outcome="ok",severity="critical"} 1.0' in metrics
    import redis as sync_redis

    ttl = sync_redis.Redis.from_url(redis_url).ttl(report_key(report["id"]))
    assert 0 < ttl <= 600


async def test_report_shape_matches_the_contract(fake_redis: Any) -> None:
    async with client(app_with(ingestion(), fake_redis)) as http:
        report = (await http.post("/analyze", json={}, headers=AUTH)).json()
    for key in ("id", "created_at", "window", "scope", "overall_severity", "title", "diagnosis", "recommendations",
                "findings", "engine", "sources", "duration_ms", "similar_incidents"):
        assert key in report
    assert set(report["window"]) == {"start", "end", "seconds"} and report["window"]["seconds"] == 900
    assert set(report["scope"]) == {"backend", "frontend"}
    assert [f["specialist"] for f in report["findings"]] == ["latency", "errors", "saturation", "traffic"]
    for f in report["findings"]:
        assert set(f) == {"specialist", "severity", "status", "summary", "details", "signals", "evidence", "duration_ms", "error"}
        assert all(set(e) == {"tool", "arguments", "result"} for e in f["evidence"])
    assert set(report["engine"]) == {"kind", "specialist_model", "synthesis_model", "llm_calls", "tool_calls", "input_tokens",
                                     "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "cost_usd"}


def test_redis_down_still_answers_the_analysis(fresh_redis: Any) -> None:
    client_redis = aioredis.Redis.from_url(fresh_redis.url, socket_timeout=1, socket_connect_timeout=1)
    app = create_app(settings(llm_engine="rules"), redis=client_redis, http=ingestion().client())
    fresh_redis.kill()
    with serve_app(app) as base:
        response = httpx.post(base + "/analyze", json={}, timeout=10)
        assert response.status_code == 200 and response.json()["sources"]["redis"] == "unreachable"
        assert httpx.get(base + "/reports/" + "a" * 32, timeout=10).status_code == 503

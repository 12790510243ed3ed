"""Ask the copilot (a background analysis, polled) and golden signals now, over HTTP with the
real app on a real redis-server; ingestion is the contract-shaped fake (MockTransport)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import redis.asyncio as aioredis

from agent_service.app import create_app
from agent_service.console.roles import Role
from agent_service.progress import verdict_of
from tests.agent.console.support import add_user, console_settings, post_form, sign_in
from tests.agent.fake_ingestion import FakeIngestion, backend, overview, response_times, saturation

SPECIALISTS = ["latency", "errors", "saturation", "traffic"]


def fake_ingestion() -> FakeIngestion:
    fake = FakeIngestion()
    fake.set("backends", {"backends": [backend("checkout", 900, rate5=12.5, p95=640, p99=1200),
                                       backend("<img src=x>", 30)]})
    fake.set("saturation", saturation(queued=3, srv_queue=2, be_queue=7), backend="checkout")
    fake.set("overview", overview(60, e5=9, seconds=60), backend="checkout")
    fake.set("response_times", response_times(60, p95=700, p99=1300, seconds=60), backend="checkout")
    return fake


async def _client(redis_url: str, fake: FakeIngestion, **overrides: object):  # type: ignore[no-untyped-def]
    app = create_app(console_settings(redis_url, **overrides), http=fake.client())
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                  base_url="http://agent.test")


async def test_golden_signals_per_backend_with_charts(redis_url: str) -> None:
    await add_user(redis_url, "victor", Role.viewer)
    fake = fake_ingestion()
    app, client = await _client(redis_url, fake)
    async with app.router.lifespan_context(app), client:
        await sign_in(client, "victor")
        page = (await client.get("/console/signals")).text
        checkout = page[page.index('aria-label="Backend checkout"'):]
        assert "12.50 %" in checkout and "640 ms" in checkout and "1,200 ms" in checkout
        assert re.search(r"<dt>Queued</dt><dd>3 requests \(longest queue 7\)</dd>", checkout)
        assert checkout.count("<svg") >= 3 and 'class="bad"' in checkout  # 15 % 5xx and 700 ms p95: red
        assert "<img src=x>" not in page and "&lt;img src=x&gt;" in page
        assert page.index("Backend checkout") < page.index("Backend &lt;img")  # busiest first
        fake.fail["backends"] = 503
        down = await client.get("/console/signals")
        assert down.status_code == 503 and "ingestion-service did not answer" in down.text


async def test_ask_runs_in_the_background_and_its_page_shows_the_report(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.responder)
    await add_user(redis_url, "victor", Role.viewer)
    fake = fake_ingestion()
    app, client = await _client(redis_url, fake)
    async with app.router.lifespan_context(app), client:
        await sign_in(client, "victor")
        assert (await post_form(client, "/console/ask", {"window": "15m"}, page="/console/ask")).status_code == 403
        client.cookies.clear()
        await sign_in(client, "alice")
        assert (await post_form(client, "/console/ask", {"window": "99h"}, page="/console/ask")).status_code == 422
        started = await post_form(client, "/console/ask", {"window": "15m", "backend": "checkout",
                                                           "question": "why <b>5xx</b>?"}, page="/console/ask")
        assert started.status_code == 303 and started.headers["location"].startswith("/console/ask/")
        job_page = started.headers["location"]
        for _ in range(200):
            progress = await client.get(job_page + "/progress")
            if "hx-trigger" not in progress.text:  # polling stops once the job is over
                break
            await asyncio.sleep(0.05)
        assert progress.status_code == 200 and "Done in" in progress.text, progress.text
        shown = (await client.get(job_page)).text
        assert "why &lt;b&gt;5xx&lt;/b&gt;?" in shown and "Findings" in shown and "latency" in shown
        assert (await client.get("/console/ask/nope")).status_code == 404


async def _job_record(redis_url: str, job_id: str) -> dict[str, Any]:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        raw = await redis.get(f"console:ask:{job_id}")
    finally:
        await redis.aclose()
    assert raw is not None
    return json.loads(raw)


async def test_the_job_record_carries_each_specialists_state_as_it_changes(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.responder)
    fake, gate = fake_ingestion(), asyncio.Event()

    async def gated(request: httpx.Request) -> httpx.Response:  # ingestion answers once the test opens the gate
        if request.url.path != "/health":
            await gate.wait()
        return fake.handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(gated), base_url="http://ingestion.test")
    app = create_app(console_settings(redis_url), http=http)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                               base_url="http://agent.test")
    async with app.router.lifespan_context(app), client:
        await sign_in(client, "alice")
        started = await post_form(client, "/console/ask", {"window": "15m", "backend": "checkout"}, page="/console/ask")
        job_id = started.headers["location"].rsplit("/", 1)[1]
        for _ in range(200):  # the four specialists start at once and wait on ingestion
            record = await _job_record(redis_url, job_id)
            if len(record["progress"]) == 4:
                break
            await asyncio.sleep(0.02)
        assert record["status"] == "running"
        assert [(line["step"], line["state"]) for line in record["progress"]] == [
            (name, "started") for name in SPECIALISTS]
        page = (await client.get(f"/console/ask/{job_id}")).text
        assert all(f"{name}: running" in page for name in SPECIALISTS) and "hx-trigger" in page

        gate.set()
        for _ in range(200):
            record = await _job_record(redis_url, job_id)
            if record["status"] != "running":
                break
            await asyncio.sleep(0.02)
        assert record["status"] == "done"  # the state and every line in the same record
        lines = {line["step"]: line for line in record["progress"]}
        assert list(lines) == [*SPECIALISTS, "synthesis"]
        report = (await client.get(f"/reports/{record['report_id']}")).json()
        for finding in report["findings"]:
            line = lines[finding["specialist"]]
            if finding["status"] == "completed":
                assert line["state"] == "done" and line["verdict"] == verdict_of(finding["severity"])
            else:
                assert line["state"] == "failed" and line["note"]
        assert lines["synthesis"]["state"] == "done"
        assert lines["synthesis"]["verdict"] == verdict_of(report["overall_severity"])
        page = (await client.get(f"/console/ask/{job_id}")).text
        assert "hx-trigger" not in page and "synthesis: done in" in page and "Done in" in page


async def test_ask_is_429_when_every_analysis_slot_is_taken(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.responder)
    app, client = await _client(redis_url, fake_ingestion(), max_analyses=1)
    async with app.router.lifespan_context(app), client:
        await sign_in(client, "alice")
        async with app.state.agent.analyzer.limiter.slot():
            busy = await post_form(client, "/console/ask", {"window": "15m"}, page="/console/ask")
        assert busy.status_code == 429 and busy.headers["retry-after"] == "5"

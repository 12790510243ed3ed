"""The worker's crash safety on a real redis-server: an entry accepted with 202 but not processed
(or processed but not acknowledged) is re-claimed and takes effect exactly once."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from agent_service.keys import DELIVERIES as STREAM
from agent_service.keys import DELIVERY_GROUP as GROUP
from agent_service.incidents.worker import AlertWorker, WorkerConfig
from tests.agent.incidents.support import (
    FakeAnalyzer,
    fixture_body,
    running_notifier,
    running_app,
    settings_for,
)


@pytest.fixture
def notifier():
    with running_notifier() as fake:
        yield fake


def _reclaimer(app, consumer: str) -> AlertWorker:
    own = app.state.agent.worker
    return AlertWorker(own.redis, own.service, own.metrics, consumer=consumer,
                       config=WorkerConfig(claim_idle_ms=100, block_ms=100))


async def test_crash_before_processing_entry_is_reclaimed_and_processed_once(redis_url, notifier, shared_fixtures):
    body = fixture_body(shared_fixtures, "firing-second-group.json")
    settings = settings_for(redis_url, notifier.url, alert_worker_enabled=False)
    async with running_app(settings, analyzer=FakeAnalyzer()) as (app, client):
        await app.state.agent.worker.ensure_group()
        assert (await client.post("/alerts", json=body)).status_code == 202
        redis: aioredis.Redis = app.state.agent.redis
        # a worker reads the entry and dies before doing anything
        read = await redis.xreadgroup(GROUP, "crashed-worker", {STREAM: ">"}, count=10)
        assert len(read[0][1]) == 1
        pending = await redis.xpending(STREAM, GROUP)
        assert pending["pending"] == 1
        assert (await client.get("/incidents/1")).status_code == 404

        survivor = _reclaimer(app, "survivor")
        await asyncio.sleep(0.15)
        assert await survivor.step(block=False) == 1
        assert await survivor.step(block=False) == 0
        await survivor.idle()
        incident = (await client.get("/incidents/1")).json()
        assert (await redis.xpending(STREAM, GROUP))["pending"] == 0
        assert await redis.xlen(STREAM) == 0
    assert incident["status"] == "INVESTIGATING"
    assert incident["pending"] == []
    assert [c["event"] for c in notifier.calls] == ["opened"]


async def test_crash_after_effects_before_ack_changes_nothing_twice(redis_url, notifier, shared_fixtures):
    body = fixture_body(shared_fixtures, "firing-second-group.json")
    settings = settings_for(redis_url, notifier.url, alert_worker_enabled=False)
    async with running_app(settings, analyzer=FakeAnalyzer()) as (app, client):
        await app.state.agent.worker.ensure_group()
        await client.post("/alerts", json=body)
        redis: aioredis.Redis = app.state.agent.redis
        crashed = _reclaimer(app, "crashed")
        read = await redis.xreadgroup(GROUP, "crashed", {STREAM: ">"}, count=10)
        entry_id, fields = read[0][1][0]
        decoded = {k.decode(): v.decode() for k, v in fields.items()}
        await crashed.process(entry_id.decode(), decoded)  # all effects, then "crash" before XACK
        await app.state.agent.incidents.drain(1)
        before = (await client.get("/incidents/1")).json()

        await asyncio.sleep(0.15)
        survivor = _reclaimer(app, "survivor")
        assert await survivor.step(block=False) == 1
        await survivor.idle()
        after = (await client.get("/incidents/1")).json()
        assert (await redis.xpending(STREAM, GROUP))["pending"] == 0
    assert after["timeline"] == before["timeline"]
    assert len(after["reports"]) == 1
    assert len(notifier.sent) == 1


async def test_crash_between_analysis_and_notification_resumes(redis_url, notifier, shared_fixtures):
    """The outbox: the opened notification still pending after a crash is sent by the re-run,
    with the same idempotency key (so a notifier that already got it sends nothing twice)."""
    body = fixture_body(shared_fixtures, "firing-single.json")
    settings = settings_for(redis_url, notifier.url, alert_worker_enabled=False)
    async with running_app(settings, analyzer=FakeAnalyzer()) as (app, client):
        await app.state.agent.worker.ensure_group()
        await client.post("/alerts", json=body)
        redis: aioredis.Redis = app.state.agent.redis
        service = app.state.agent.incidents
        read = await redis.xreadgroup(GROUP, "crashed", {STREAM: ">"}, count=10)
        entry_id, fields = read[0][1][0]
        decoded = {k.decode(): v.decode() for k, v in fields.items()}
        await _reclaimer(app, "crashed").process(entry_id.decode(), decoded)
        await service.drain(1, max_actions=1)  # the analysis, then "crash" before notifying
        half = (await client.get("/incidents/1")).json()
        assert [p["kind"] for p in half["pending"]] == ["notify"]
        assert notifier.calls == []

        await asyncio.sleep(0.15)
        survivor = _reclaimer(app, "survivor")
        assert await survivor.step(block=False) == 1
        await survivor.idle()
        done = (await client.get("/incidents/1")).json()
    assert done["pending"] == []
    assert [c["event"] for c in notifier.calls] == ["opened"]
    assert notifier.calls[0]["idempotency_key"] == half["pending"][0]["key"]


async def test_a_poison_entry_goes_to_the_dead_letter_stream(redis_url, notifier):
    settings = settings_for(redis_url, notifier.url, alert_worker_enabled=False)
    async with running_app(settings) as (app, _client):
        worker = _reclaimer(app, "w")
        await worker.ensure_group()
        redis: aioredis.Redis = app.state.agent.redis
        await redis.xadd(STREAM, {"payload": "{broken", "incident_id": "1", "previous": "", "delivery": "x"})
        assert await worker.step(block=False) == 1
        for _ in range(worker.config.max_attempts):
            await asyncio.sleep(0.12)
            await worker.step(block=False)
        assert await redis.xlen("alerts:dead") == 1
        assert (await redis.xpending(STREAM, GROUP))["pending"] == 0


async def test_housekeeping_resumes_actions_an_api_crash_left_behind(redis_url, notifier):
    from agent_service.incidents.models import PendingAction
    from agent_service.incidents.store import IncidentStore

    settings = settings_for(redis_url, notifier.url, alert_worker_enabled=False, api_token="t")
    async with running_app(settings) as (app, client):
        await client.post("/incidents", headers={"Authorization": "Bearer t"}, json={"title": "x"})
        store = IncidentStore(app.state.agent.redis)

        def crashed_before_notifying(incident):
            incident.pending.append(PendingAction(kind="notify", event="updated", key="k-after-crash"))

        await store.update(1, crashed_before_notifying)
        assert await store.with_pending() == [1]
        worker = _reclaimer(app, "w")
        await worker.housekeeping()
        await worker.idle()
        incident = await store.get(1)
        left = await store.with_pending()
    assert incident.pending == [] and left == []
    assert [c["idempotency_key"] for c in notifier.calls][-1] == "k-after-crash"

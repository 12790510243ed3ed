"""The incident drain lock on a real redis-server: renewed while its holder lives (an analysis
longer than the lock's TTL keeps the incident to itself), freed at the end, and freed by expiry
when its holder is gone."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from agent_service.incidents.metrics import IncidentMetrics
from agent_service.incidents.models import IncidentCreate, PendingAction
from agent_service.incidents.notifications import Notifications
from agent_service.incidents.analysis import IncidentAnalysis
from agent_service.app import service_config
from agent_service.incidents.service import IncidentService
from agent_service.incidents.store import IncidentStore
from agent_service.keys import incident_lock_key
from agent_service.settings import Settings
from tests.agent.incidents.support import FakeAnalyzer

TTL = 1.5  # renewed every TTL/3: a 1 s stall of a loaded CI machine must not lapse it
LOCK = incident_lock_key(1)


async def _service(redis: aioredis.Redis, analyzer: FakeAnalyzer) -> IncidentService:
    metrics = IncidentMetrics(CollectorRegistry())
    store = IncidentStore(redis)
    config = replace(service_config(Settings()), lock_ttl_s=TTL, analysis_timeout_s=30)
    notifications = Notifications(store, None, metrics, public_url=config.public_url, policy=config.notify_retry)
    analysis = IncidentAnalysis(store, analyzer=analyzer, ingestion=None, config=config)
    service = IncidentService(redis, store=store, analysis=analysis, notifications=notifications,
                              metrics=metrics, config=config)
    await service.create(IncidentCreate(title="checkout slow", backend="be_checkout"))

    def queue_analysis(incident) -> None:  # type: ignore[no-untyped-def]
        incident.pending.append(PendingAction(kind="analyze", key="k-analysis"))

    await service.store.update(1, queue_analysis)
    return service


async def test_the_lock_is_renewed_through_an_analysis_longer_than_its_ttl(redis_url) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    analyzer = FakeAnalyzer(delay=4 * TTL)
    service = await _service(redis, analyzer)
    drain = asyncio.create_task(service.drain(1))
    ttls = []
    for _ in range(6):  # sample across 2.4 TTLs of analysis
        await asyncio.sleep(TTL / 2)
        ttls.append(await redis.pttl(LOCK))
    # another drainer (the API, housekeeping) does not get in while the analysis runs
    other = await service.drain(1, wait_s=0.1)
    incident = await drain
    released = await redis.exists(LOCK)
    await redis.aclose()
    assert all(0 < t <= TTL * 1000 for t in ttls), ttls
    assert len(analyzer.requests) == 1, "the analysis ran once: the lock never lapsed"
    assert other is not None and any(p.kind == "analyze" for p in other.pending), "the other drainer stayed out"
    assert incident is not None and incident.pending == [] and len(incident.reports) == 1
    assert released == 0, "the holder releases the lock when done"


async def test_a_lock_whose_holder_is_gone_expires_after_its_ttl(redis_url) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    analyzer = FakeAnalyzer()
    service = await _service(redis, analyzer)
    await redis.set(LOCK, "a-dead-drainer", px=int(TTL * 1000))  # held by nobody alive
    blocked = await service.drain(1, wait_s=0.05)
    incident = await service.drain(1, wait_s=TTL * 3)  # waits for the expiry, then works
    await redis.aclose()
    assert blocked is not None and blocked.pending, "nothing runs while the lock is held"
    assert analyzer.requests and incident is not None and incident.pending == []

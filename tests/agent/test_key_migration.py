"""The agent's keys moved to one style (keys.py): legacy incidents are renamed at start-up, legacy
reports are still read until they expire. Real redis-server, the real app."""

from __future__ import annotations

import httpx
import redis.asyncio as aioredis

from agent_service.app import create_app
from agent_service.incidents.models import Incident
from agent_service.keys import INCIDENTS_BY_CREATED, LAYOUT, incident_key, legacy_report_key
from agent_service.migrate import migrate_keys
from agent_service.settings import Settings
from tests.agent.incidents.support import settings_for


def _incident(incident_id: int) -> Incident:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    return Incident(id=incident_id, title=f"legacy {incident_id}", severity="warning", source="manual",
                    created_at=now, updated_at=now)


async def test_legacy_incidents_are_renamed_once_and_served(redis_url: str) -> None:
    legacy = aioredis.Redis.from_url(redis_url)
    for incident_id in (1, 2):
        await legacy.set(f"incident:{incident_id}", _incident(incident_id).model_dump_json())
        await legacy.zadd(INCIDENTS_BY_CREATED, {str(incident_id): incident_id})
    await legacy.set("incident:notanumber", "left alone")
    settings: Settings = settings_for(redis_url, "", alert_worker_enabled=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent") as client:
            one = await client.get("/incidents/1")
            listing = await client.get("/incidents")
    assert one.status_code == 200 and one.json()["title"] == "legacy 1"
    assert listing.json()["count"] == 2
    assert await legacy.exists("incident:1", "incident:2") == 0
    assert await legacy.exists(incident_key(1), incident_key(2)) == 2
    assert await legacy.get("incident:notanumber") == b"left alone"
    assert await legacy.get(LAYOUT) == b"2"
    assert await migrate_keys(legacy) == 0  # once: the marker stops a second scan
    await legacy.aclose()


async def test_an_incident_under_both_layouts_keeps_the_new_one(redis_url: str) -> None:
    r = aioredis.Redis.from_url(redis_url)
    await r.set("incident:7", _incident(7).model_dump_json())
    newer = _incident(7).model_copy(update={"title": "new layout"})
    await r.set(incident_key(7), newer.model_dump_json())
    assert await migrate_keys(r) == 0
    assert Incident.model_validate_json(await r.get(incident_key(7))).title == "new layout"
    await r.aclose()


async def test_a_legacy_report_is_still_read(redis_url: str) -> None:
    r = aioredis.Redis.from_url(redis_url)
    app = create_app(settings_for(redis_url, "", alert_worker_enabled=False))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent") as client:
            report = (await client.post("/analyze", json={"window": "5m"})).json()
            body = await r.get(f"reports:{report['id']}")
            await r.delete(f"reports:{report['id']}")
            assert (await client.get(f"/reports/{report['id']}")).status_code == 404
            await r.set(legacy_report_key(report["id"]), body, ex=60)  # as an earlier release wrote it
            got = await client.get(f"/reports/{report['id']}")
    assert got.status_code == 200 and got.json()["id"] == report["id"]
    await r.aclose()

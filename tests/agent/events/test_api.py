"""POST /events and GET /events on a real redis-server, through the app's lifespan: idempotency
by id, filters, retention, the API token, 422s for bad bodies and queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis

from agent_service.keys import EVENTS_BY_ID, EVENTS_BY_TIME
from tests.agent.incidents.support import running_app, settings_for

AUTH = {"Authorization": "Bearer api-secret"}


def _event(i: str = "dep-1", *, minutes_ago: float = 5, backend: str = "be_search", **kw: object) -> dict:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {"id": i, "kind": "deploy", "backend": backend, "version": "v2.3.1", "summary": "search ranking v2",
            "at": at.isoformat(), "by": "alice", "url": "https://ci.example/run/1", **kw}


async def test_a_second_post_with_the_same_id_answers_200_with_the_stored_event(redis_url, notifier) -> None:
    async with running_app(settings_for(redis_url, notifier.url, api_token="api-secret")) as (_app, client):
        first = await client.post("/events", json=_event(), headers=AUTH)
        again = await client.post("/events", json=_event(version="v9.9.9", summary="other"), headers=AUTH)
        listed = await client.get("/events", headers=AUTH)
    assert first.status_code == 201, first.text
    assert first.json()["created"] is True and first.json()["event"]["version"] == "v2.3.1"
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["event"]["version"] == "v2.3.1"  # the first one wins, nothing overwritten
    assert listed.json()["count"] == 1
    raw = redis.Redis.from_url(redis_url)
    assert raw.hlen(EVENTS_BY_ID) == 1 and raw.zcard(EVENTS_BY_TIME) == 1
    assert 0 < raw.ttl(EVENTS_BY_ID) <= 30 * 24 * 3600 and raw.ttl(EVENTS_BY_TIME) > 0


async def test_list_filters_by_time_and_backend_newest_first(redis_url, notifier) -> None:
    async with running_app(settings_for(redis_url, notifier.url)) as (_app, client):
        for i, (ago, backend) in enumerate([(90, "be_search"), (30, "be_api"), (10, "be_search"), (2, "be_search")]):
            assert (await client.post("/events", json=_event(f"e{i}", minutes_ago=ago, backend=backend))).status_code == 201
        since = (datetime.now(UTC) - timedelta(minutes=60)).isoformat()
        until = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        window = await client.get("/events", params={"since": since, "until": until})
        search = await client.get("/events", params={"backend": "be_search"})
        limited = await client.get("/events", params={"backend": "be_search", "limit": 1})
    assert [e["id"] for e in window.json()["events"]] == ["e2", "e1"]
    assert [e["id"] for e in search.json()["events"]] == ["e3", "e2", "e0"]
    assert [e["id"] for e in limited.json()["events"]] == ["e3"]


async def test_the_cap_keeps_the_newest_events(redis_url, notifier) -> None:
    settings = settings_for(redis_url, notifier.url, events_max=10)
    async with running_app(settings) as (_app, client):
        for i in range(12):
            await client.post("/events", json=_event(f"e{i:02d}", minutes_ago=60 - i))
        listed = await client.get("/events")
    ids = [e["id"] for e in listed.json()["events"]]
    assert len(ids) == 10 and ids[0] == "e11" and "e00" not in ids and "e01" not in ids
    assert redis.Redis.from_url(redis_url).hlen(EVENTS_BY_ID) == 10


async def test_events_need_the_api_token(redis_url, notifier) -> None:
    async with running_app(settings_for(redis_url, notifier.url, api_token="api-secret")) as (_app, client):
        missing = await client.post("/events", json=_event())
        wrong = await client.get("/events", headers={"Authorization": "Bearer nope"})
        reading = await client.get("/events")
    assert (missing.status_code, wrong.status_code, reading.status_code) == (401, 403, 401)
    assert redis.Redis.from_url(redis_url).hlen(EVENTS_BY_ID) == 0


async def test_bad_bodies_and_queries_are_422_never_500(redis_url, notifier) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    bodies = [
        _event(extra="field"),  # extra fields refused
        _event(kind="reboot"),
        _event(at="1999-12-31T23:59:00Z"),
        _event(at=(datetime.now(UTC) + timedelta(days=2)).isoformat()),
        _event(at=long_ago),  # older than the retention: would vanish at once
        _event(summary="x" * 501),
        _event(version="v1 ; rm -rf"),
        _event(by="eve\nINJECTED"),
        _event(url="javascript:alert(1)"),
        {**_event(), "backend": None},  # nowhere
        _event(id="has space"),
        {"id": "x"},
    ]
    async with running_app(settings_for(redis_url, notifier.url)) as (_app, client):
        answers = [await client.post("/events", json=body) for body in bodies]
        queries = [await client.get("/events", params=p) for p in (
            {"since": "yesterday"}, {"since": "1990-01-01T00:00:00Z"}, {"limit": 0}, {"limit": 501},
            {"since": datetime.now(UTC).isoformat(), "until": long_ago}, {"backend": "b" * 201})]
    assert [a.status_code for a in answers] == [422] * len(bodies), [a.text for a in answers]
    assert "retention" in answers[4].text
    assert [q.status_code for q in queries] == [422] * len(queries), [q.text for q in queries]
    assert redis.Redis.from_url(redis_url).hlen(EVENTS_BY_ID) == 0


async def test_redis_down_is_503_with_retry_after(fresh_redis, notifier) -> None:
    async with running_app(settings_for(fresh_redis.url, notifier.url, alert_worker_enabled=False)) as (_app, client):
        fresh_redis.stop()
        posted = await client.post("/events", json=_event())
        listed = await client.get("/events")
    assert (posted.status_code, listed.status_code) == (503, 503)
    assert posted.headers["retry-after"] == "5" and "event store unavailable" in listed.text

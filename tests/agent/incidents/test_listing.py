"""The list indexes on a real redis-server (issue 14 finding 6): status and severity changes move
an incident between the indexes, filtered pages follow the cursor to the end (both filters and
`q=` within their bounds), a status change between two pages neither skips nor repeats, the
start-up backfill indexes legacy incidents once, and a write cut half-way leaves nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from functools import partial

import pytest
import redis.asyncio as aioredis
import redis.exceptions

from agent_service.incidents.lifecycle import now_utc
from agent_service.incidents.listing import IncidentLists
from agent_service.incidents.models import Incident, IncidentList, IncidentStatus
from agent_service.incidents.store import IncidentStore
from agent_service.keys import (
    INCIDENTS_BY_CREATED,
    INCIDENTS_SUMMARIES,
    LIST_INDEXES,
    incident_key,
    severity_index_key,
    status_index_key,
)
from agent_service.migrate import backfill_list_indexes
from tests.support.cutting_proxy import CuttingProxy

S = IncidentStatus
STATUSES = [S.OPEN, S.INVESTIGATING, S.MITIGATED, S.RESOLVED]
SEVERITIES = ["info", "warning", "critical"]
T0 = now_utc() - timedelta(days=1)


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    r = aioredis.Redis.from_url(redis_url)
    try:
        yield r
    finally:
        await r.aclose()


def _incident(n: int, *, status: S = S.OPEN, severity: str = "warning", created: datetime | None = None,
              title: str | None = None) -> Incident:
    at = created or T0 + timedelta(seconds=n)
    return Incident(id=n, title=title or f"incident {n}", status=status, severity=severity,  # type: ignore[arg-type]
                    created_at=at, updated_at=at)


def _mixed(count: int) -> list[Incident]:
    """Statuses and severities in two different cycles, so every pair of filters occurs."""
    return [_incident(n, status=STATUSES[n % 4], severity=SEVERITIES[n % 3],
                      title=f"{'checkout' if n % 2 else 'search'} incident {n}") for n in range(1, count + 1)]


async def _stored(client: aioredis.Redis, incidents: list[Incident]) -> list[Incident]:
    """Created through the store; returned newest first."""
    for incident in incidents:
        await IncidentStore(client).create(incident)
    return sorted(incidents, key=lambda i: i.created_at, reverse=True)


async def _members(client: aioredis.Redis) -> dict[str, set[int]]:
    keys = [status_index_key(s) for s in STATUSES] + [severity_index_key(s) for s in SEVERITIES]
    return {k: {int(m) for m in await client.zrange(k, 0, -1)} for k in keys}


async def _all_pages(read, limit: int) -> tuple[list[int], list[IncidentList]]:  # type: ignore[no-untyped-def]
    ids: list[int] = []
    pages: list[IncidentList] = []
    cursor = 0
    for _ in range(500):
        page = await read(limit=limit, cursor=cursor)
        pages.append(page)
        assert page.count == len(page.incidents) <= limit
        ids.extend(i.id for i in page.incidents)
        if page.next_cursor is None:
            return ids, pages
        assert page.next_cursor > cursor, "a cursor always moves on"
        cursor = page.next_cursor
    raise AssertionError("paging did not end")


async def test_status_and_severity_changes_move_the_incident_between_indexes(client: aioredis.Redis) -> None:
    store = IncidentStore(client)
    await store.create(_incident(1))
    before = await _members(client)

    def escalate(incident: Incident) -> None:
        incident.status, incident.severity = S.INVESTIGATING, "critical"

    await store.update(1, escalate)
    after = await _members(client)
    lists = store.lists
    open_page = await lists.page(status=S.OPEN, severity=None, limit=10, cursor=0)
    both = await lists.page(status=S.INVESTIGATING, severity="critical", limit=10, cursor=0)
    await store.update(1, lambda i: setattr(i, "status", S.RESOLVED))
    resolved = await _members(client)
    assert {k for k, v in before.items() if v} == {status_index_key(S.OPEN), severity_index_key("warning")}
    assert {k for k, v in after.items() if v} == {status_index_key(S.INVESTIGATING), severity_index_key("critical")}
    assert {k for k, v in resolved.items() if v} == {status_index_key(S.RESOLVED), severity_index_key("critical")}
    assert open_page.incidents == [] and open_page.next_cursor is None
    assert [(i.id, i.status, i.severity) for i in both.incidents] == [(1, S.INVESTIGATING, "critical")]
    summary = await client.hget(INCIDENTS_SUMMARIES, "1")
    assert summary is not None and b'"RESOLVED"' in summary, "the summary follows every change"


@pytest.mark.parametrize("filters", [{"status": S.OPEN}, {"severity": "critical"},
                                     {"status": S.RESOLVED, "severity": "info"}, {}])
@pytest.mark.parametrize("limit", [1, 3, 100])
async def test_filtered_pages_follow_the_cursor_to_the_end(client: aioredis.Redis, filters, limit: int) -> None:
    newest_first = await _stored(client, _mixed(41))
    # A small walk budget: with both filters a request stops after 5 index entries.
    lists = IncidentLists(client, walk_budget=5)

    async def read(*, limit: int, cursor: int) -> IncidentList:
        return await lists.page(status=filters.get("status"), severity=filters.get("severity"), limit=limit,
                                cursor=cursor)

    ids, pages = await _all_pages(read, limit)
    assert ids == [i.id for i in newest_first if all(getattr(i, k) == v for k, v in filters.items())]
    if len(filters) == 2:
        assert any(p.next_cursor is not None and p.count < limit for p in pages) or limit == 1, \
            "the bounded walk stopped before a full page at least once"


@pytest.mark.parametrize("bound", [{"search_scan": 3}, {"search_bytes": 1}])  # 3 candidates; one batch of 4
async def test_search_is_bounded_per_request_and_paged(client: aioredis.Redis, bound: dict[str, int]) -> None:
    newest_first = await _stored(client, _mixed(30))
    lists = IncidentLists(client, **bound)

    async def read(*, limit: int, cursor: int) -> IncidentList:
        return await lists.search("checkout", status=None, severity="critical", limit=limit, cursor=cursor)

    ids, pages = await _all_pages(read, 6)
    expected = [i.id for i in newest_first if i.severity == "critical" and "checkout" in i.title]
    assert ids == expected and len(expected) == 5
    assert any(p.next_cursor is not None and p.count < 6 for p in pages), "a request stopped at its bound"


async def test_a_search_waits_for_a_slot_then_is_refused_with_429(redis_url: str) -> None:
    from tests.agent.incidents.support import running_app, settings_for

    async with running_app(settings_for(redis_url, "http://127.0.0.1:9", alert_worker_enabled=False)) as (app, http):
        await http.post("/incidents", json={"title": "checkout slow"})
        lists = app.state.agent.store.lists
        lists.search_wait_s = 0.01
        await lists.searches.acquire()
        await lists.searches.acquire()  # both slots taken by searches still running
        busy = await http.get("/incidents", params={"q": "checkout"})
        plain = await http.get("/incidents", params={"status": "OPEN"})  # not a search: never waits
        lists.searches.release()
        served = await http.get("/incidents", params={"q": "checkout"})
        lists.searches.release()
    assert busy.status_code == 429 and busy.headers["retry-after"] == "2" and "too many searches" in busy.text
    assert plain.status_code == 200 and plain.json()["count"] == 1
    assert served.status_code == 200 and [i["title"] for i in served.json()["incidents"]] == ["checkout slow"]


async def test_a_status_change_between_pages_neither_skips_nor_repeats(client: aioredis.Redis) -> None:
    store = IncidentStore(client)
    for n in range(1, 7):
        await store.create(_incident(n))
    first = await store.lists.page(status=S.OPEN, severity=None, limit=2, cursor=0)
    for n in (6, 5):  # the first page's incidents leave OPEN before the second page is read
        await store.update(n, lambda i: setattr(i, "status", S.INVESTIGATING))
    assert first.next_cursor is not None
    second = await store.lists.page(status=S.OPEN, severity=None, limit=2, cursor=first.next_cursor)
    assert [i.id for i in first.incidents] == [6, 5]
    assert [i.id for i in second.incidents] == [4, 3]  # an offset into the OPEN set would give [2, 1]


async def test_incidents_created_at_the_same_instant_are_each_listed_once(client: aioredis.Redis) -> None:
    store = IncidentStore(client)
    for n in range(1, 26):
        await store.create(_incident(n, created=T0, severity="critical"))
    lists = store.lists

    async def listed(*, limit: int, cursor: int, f: dict[str, object]) -> IncidentList:
        return await lists.page(status=f.get("status"), severity=f.get("severity"), limit=limit,  # type: ignore[arg-type]
                                cursor=cursor)

    async def searched(*, limit: int, cursor: int, f: dict[str, object]) -> IncidentList:
        # q= reads 4 candidates per round trip: the walk resumes inside the run of equal times
        return await lists.search("incident", status=f.get("status"), severity=f.get("severity"),  # type: ignore[arg-type]
                                  limit=limit, cursor=cursor)

    for read in (listed, searched):
        for filters in ({"severity": "critical"}, {"severity": "critical", "status": S.OPEN}, {}):
            for limit in (2, 100):
                ids, _ = await _all_pages(partial(read, f=filters), limit)
                assert sorted(ids) == list(range(1, 26)) and len(ids) == 25, (read, filters, limit, ids)


async def _store_legacy(client: aioredis.Redis, incidents: list[Incident]) -> None:
    """Incidents as an agent before the list indexes wrote them: the document and by_created only."""
    for incident in incidents:
        await client.set(incident_key(incident.id), incident.model_dump_json())
        await client.zadd(INCIDENTS_BY_CREATED, {str(incident.id): incident.created_at.timestamp()})


async def test_backfill_indexes_legacy_incidents_once(client: aioredis.Redis, caplog) -> None:
    incidents = _mixed(23)
    await _store_legacy(client, incidents)
    await client.set(incident_key(99), "{not an incident")
    await client.zadd(INCIDENTS_BY_CREATED, {"99": T0.timestamp()})
    lists = IncidentLists(client)
    before = await lists.page(status=S.OPEN, severity=None, limit=100, cursor=0)
    unfiltered = await lists.page(status=None, severity=None, limit=5, cursor=0)

    assert await backfill_list_indexes(client, batch=4) == 23
    assert await client.get(LIST_INDEXES) == b"1"
    assert "incidents:99 is not a readable incident" in caplog.text
    await client.set(incident_key(1), _incident(1, status=S.RESOLVED).model_dump_json())  # a legacy write after
    assert await backfill_list_indexes(client) == 0, "once: the marker stops a second pass"

    after = {s: await lists.page(status=s, severity=None, limit=100, cursor=0) for s in STATUSES}
    both = await lists.page(status=S.MITIGATED, severity="warning", limit=100, cursor=0)
    assert before.incidents == [], "nothing was indexed before the backfill"
    assert [i.id for i in unfiltered.incidents] == [23, 22, 21, 20, 19], "summaries fall back to the documents"
    newest_first = sorted(incidents, key=lambda i: i.created_at, reverse=True)
    for status, page in after.items():
        assert [i.id for i in page.incidents] == [i.id for i in newest_first if i.status == status]
    assert [i.id for i in both.incidents] == [
        i.id for i in newest_first if i.status == S.MITIGATED and i.severity == "warning"]
    assert await client.hlen(INCIDENTS_SUMMARIES) == 23


async def test_the_app_backfills_legacy_incidents_at_start_up(redis_url: str) -> None:
    from tests.agent.incidents.support import running_app, settings_for

    legacy = aioredis.Redis.from_url(redis_url)
    try:
        await _store_legacy(legacy, _mixed(6))
        await legacy.rename(incident_key(6), "incident:6")  # older still: the first key layout
    finally:
        await legacy.aclose()
    async with running_app(settings_for(redis_url, "http://127.0.0.1:9", alert_worker_enabled=False)) as (_app, http):
        mitigated = (await http.get("/incidents", params={"status": "MITIGATED"})).json()
        both = (await http.get("/incidents", params={"severity": "critical", "status": "INVESTIGATING"})).json()
    assert [i["id"] for i in mitigated["incidents"]] == [6, 2], "6 was renamed from the first layout, then indexed"
    assert [i["id"] for i in both["incidents"]] == [5]


async def _cut_write(redis_process_port: int, direct: aioredis.Redis, write) -> CuttingProxy:  # type: ignore[no-untyped-def]
    """Run `write(store)` through a proxy that cuts the connection at the first severity-index
    command, i.e. after the document, its summary and its status entry were sent."""
    proxy = CuttingProxy(redis_process_port, cut_at=b"incidents:by_severity:")
    async with proxy.serving() as url:
        through = aioredis.Redis.from_url(url)
        try:
            with pytest.raises((redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
                await write(IncidentStore(through))
        finally:
            await through.aclose()
        await proxy.settled(direct)
    assert proxy.cut, "the write never reached the severity index"
    return proxy


async def test_a_creation_cut_half_way_leaves_no_index_entry_and_no_incident(
        client: aioredis.Redis, redis_process) -> None:  # type: ignore[no-untyped-def]
    proxy = await _cut_write(redis_process.port, client, lambda store: store.create(_incident(1)))
    assert incident_key(1).encode() in proxy.forwarded and b"incidents:by_status:OPEN" in proxy.forwarded
    assert await client.keys("incidents:*") == [], "nothing of the cut creation landed"


async def test_a_status_change_cut_half_way_leaves_the_indexes_as_they_were(
        client: aioredis.Redis, redis_process) -> None:  # type: ignore[no-untyped-def]
    store = IncidentStore(client)
    await store.create(_incident(1))
    before = (await _members(client), await client.get(incident_key(1)), await client.hgetall(INCIDENTS_SUMMARIES))

    async def investigate(s: IncidentStore) -> None:
        await s.update(1, lambda i: setattr(i, "status", S.INVESTIGATING))

    proxy = await _cut_write(redis_process.port, client, investigate)
    after = (await _members(client), await client.get(incident_key(1)), await client.hgetall(INCIDENTS_SUMMARIES))
    assert b"incidents:by_status:INVESTIGATING" in proxy.forwarded
    assert after == before

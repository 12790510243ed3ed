"""Incident API on a real redis-server: creation, transitions, notes, search, handoff,
post-mortem; notifications with token, failures recorded on the timeline."""

from __future__ import annotations

import pytest

from agent_service.incidents.store import IncidentStore
from tests.agent.incidents.support import (
    FakeNotifier,
    make_report,
    notifier_server,
    running_app,
    running_notifier,
    settings_for,
)

AUTH = {"Authorization": "Bearer api-secret"}


@pytest.fixture
def notifier():
    with running_notifier("n-token") as fake:
        yield fake


def _settings(redis_url, notifier, **kw):
    return settings_for(redis_url, notifier.url, notifier_token="n-token", api_token="api-secret", **kw)


async def test_manual_incident_through_its_lifecycle(redis_url, notifier) -> None:
    async with running_app(_settings(redis_url, notifier)) as (_app, client):
        created = await client.post("/incidents", headers=AUTH, json={
            "title": "Checkout slow", "severity": "critical", "backend": "be_checkout", "actor": "bob"})
        assert created.status_code == 201, created.text
        incident = created.json()
        assert incident["id"] == 1 and incident["status"] == "OPEN" and incident["source"] == "manual"
        for target in ("INVESTIGATING", "MITIGATED"):
            response = await client.post("/incidents/1/status", headers=AUTH, json={"status": target, "actor": "bob"})
            assert response.status_code == 200, response.text
        back = await client.post("/incidents/1/status", headers=AUTH, json={"status": "OPEN"})
        again = await client.post("/incidents/1/status", headers=AUTH, json={"status": "MITIGATED"})
        done = await client.post("/incidents/1/status", headers=AUTH, json={
            "status": "RESOLVED", "actor": "bob", "root_cause": "a slow query", "resolution": "added an index"})
        after = await client.post("/incidents/1/status", headers=AUTH, json={"status": "INVESTIGATING"})
        missing = await client.post("/incidents/99/status", headers=AUTH, json={"status": "RESOLVED"})
        bad = await client.post("/incidents/1/status", headers=AUTH, json={"status": "DONE"})
    assert back.status_code == 409 and "cannot go from MITIGATED to OPEN" in back.text
    assert again.status_code == 409 and "already MITIGATED" in again.text
    assert done.status_code == 200
    final = done.json()
    assert final["status"] == "RESOLVED" and final["root_cause"] == "a slow query"
    assert final["mitigated_at"] and final["resolved_at"] and final["acknowledged_at"]
    assert after.status_code == 409 and "final" in after.text
    assert missing.status_code == 404
    assert bad.status_code == 422
    assert [c["event"] for c in notifier.calls] == ["opened", "updated", "mitigated", "resolved"]
    assert len({c["idempotency_key"] for c in notifier.calls}) == 4
    changes = [e for e in final["timeline"] if e["kind"] == "status_changed"]
    assert [(e["data"]["from"], e["data"]["to"], e["actor"]) for e in changes] == [
        ("OPEN", "INVESTIGATING", "bob"), ("INVESTIGATING", "MITIGATED", "bob"), ("MITIGATED", "RESOLVED", "bob")]


async def test_writes_and_reads_need_the_api_token(redis_url, notifier) -> None:
    async with running_app(_settings(redis_url, notifier)) as (_app, client):
        missing = await client.post("/incidents", json={"title": "x"})
        wrong = await client.post("/incidents", json={"title": "x"}, headers={"Authorization": "Bearer no"})
        note = await client.post("/incidents/1/notes", json={"text": "x"})
        status = await client.post("/incidents/1/status", json={"status": "RESOLVED"})
        listing = await client.get("/incidents")
        authorised = await client.get("/incidents", headers={"Authorization": "Bearer api-secret"})
    assert (missing.status_code, wrong.status_code, note.status_code, status.status_code) == (401, 403, 401, 401)
    assert listing.status_code == 401  # issue 14 finding 5: reads are behind the same token
    assert authorised.status_code == 200 and authorised.json()["count"] == 0


async def test_notes_action_items_and_acknowledgement(redis_url, notifier) -> None:
    async with running_app(_settings(redis_url, notifier)) as (app, client):
        store = IncidentStore(app.state.agent.redis)
        await client.post("/incidents", headers=AUTH, json={"title": "Disk", "actor": "system"})
        assert (await store.get(1)).acknowledged_at is None
        note = await client.post("/incidents/1/notes", headers=AUTH, json={"text": "looking at be_app", "actor": "carol"})
        item = await client.post("/incidents/1/notes", headers=AUTH, json={
            "text": "alert on queue depth", "actor": "carol", "kind": "action_item"})
        empty = await client.post("/incidents/1/notes", headers=AUTH, json={"text": ""})
        hostile = await client.post("/incidents/1/notes", headers=AUTH, json={"text": "x", "actor": "<script>"})
        unknown = await client.post("/incidents/404/notes", headers=AUTH, json={"text": "x"})
    assert note.status_code == 201
    body = item.json()
    assert body["acknowledged_at"] is not None
    assert body["action_items"] == ["alert on queue depth"]
    notes = [e for e in body["timeline"] if e["kind"] == "note"]
    assert [(n["actor"], n["message"]) for n in notes] == [
        ("carol", "looking at be_app"), ("carol", "[action item] alert on queue depth")]
    assert (empty.status_code, hostile.status_code, unknown.status_code) == (422, 422, 404)


async def test_list_filters_and_text_search(redis_url, notifier) -> None:
    async with running_app(_settings(redis_url, notifier)) as (_app, client):
        for title, severity in [("Checkout latency high", "critical"), ("Search 5xx burst", "warning"),
                                ("Checkout 5xx burst", "warning")]:
            await client.post("/incidents", headers=AUTH, json={"title": title, "severity": severity})
        await client.post("/incidents/2/status", headers=AUTH, json={"status": "RESOLVED", "resolution": "restarted"})
        await client.post("/incidents/3/notes", headers=AUTH, json={"text": "the haproxy queue is full"})
        everything = (await client.get("/incidents", headers=AUTH)).json()
        checkout = (await client.get("/incidents", params={"q": "checkout"}, headers=AUTH)).json()
        burst_open = (await client.get("/incidents", params={"q": "5xx burst", "status": "OPEN"}, headers=AUTH)).json()
        critical = (await client.get("/incidents", params={"severity": "critical"}, headers=AUTH)).json()
        by_note = (await client.get("/incidents", params={"q": "queue"}, headers=AUTH)).json()
        by_resolution = (await client.get("/incidents", params={"q": "restarted"}, headers=AUTH)).json()
        limited = (await client.get("/incidents", params={"limit": 1}, headers=AUTH)).json()
        bad = await client.get("/incidents", params={"status": "SLEEPING"}, headers=AUTH)
    assert [i["id"] for i in everything["incidents"]] == [3, 2, 1]
    assert [i["id"] for i in checkout["incidents"]] == [3, 1]
    assert [i["id"] for i in burst_open["incidents"]] == [3]
    assert [i["id"] for i in critical["incidents"]] == [1]
    assert [i["id"] for i in by_note["incidents"]] == [3]
    assert [i["id"] for i in by_resolution["incidents"]] == [2]
    assert limited["count"] == 1
    assert bad.status_code == 422


async def test_handoff_by_rules(redis_url, notifier) -> None:
    report = make_report().model_dump(mode="json")
    async with running_app(_settings(redis_url, notifier)) as (_app, client):
        await client.post("/incidents", headers=AUTH, json={"title": "5xx on be_app", "report": report, "actor": "dan"})
        await client.post("/incidents/1/status", headers=AUTH, json={"status": "INVESTIGATING", "actor": "dan"})
        await client.post("/incidents/1/notes", headers=AUTH, json={"text": "rolled back deploy 42", "actor": "dan"})
        handoff = (await client.get("/incidents/1/handoff", headers=AUTH)).json()
        missing = await client.get("/incidents/2/handoff", headers=AUTH)
    assert handoff["generated_by"] == "rules"
    assert handoff["status"] == "INVESTIGATING"
    assert "5xx errors on be_app" in handoff["what_happened"]
    assert any("rolled back deploy 42" in t for t in handoff["what_was_tried"])
    assert "Root cause not recorded yet." in handoff["open_questions"]
    assert any(q.startswith("Try: Check be_app") for q in handoff["open_questions"])
    assert "## Open questions" in handoff["markdown"]
    assert missing.status_code == 404


async def test_notifier_down_is_recorded_and_never_fails_the_request(redis_url) -> None:
    settings = settings_for(redis_url, "http://127.0.0.1:9", api_token="api-secret")
    async with running_app(settings) as (_app, client):
        created = await client.post("/incidents", headers=AUTH, json={"title": "x"})
    assert created.status_code == 201
    kinds = [e["kind"] for e in created.json()["timeline"]]
    retrying = [e for e in created.json()["timeline"] if e["kind"] == "notification_retrying"]
    assert len(retrying) == 1 and "notifier unreachable" in retrying[0]["message"], kinds
    assert "notification_failed" not in kinds  # kept to be retried (tests/agent/incidents/test_notify_retry.py)
    (pending,) = created.json()["pending"]
    assert pending["event"] == "opened" and pending["failures"] == 1 and pending["next_try_at"]


async def test_notifier_rejecting_the_token_is_recorded(redis_url) -> None:
    fake = FakeNotifier(token="right")
    with notifier_server(fake) as url:
        settings = settings_for(redis_url, url, notifier_token="wrong", api_token="api-secret")
        async with running_app(settings) as (_app, client):
            created = await client.post("/incidents", headers=AUTH, json={"title": "x"})
    failed = [e for e in created.json()["timeline"] if e["kind"] == "notification_failed"]
    assert "403" in failed[0]["message"]
    assert fake.calls == []


async def test_a_human_is_not_kept_waiting_by_a_running_analysis(redis_url, notifier, shared_fixtures) -> None:
    """RESOLVED during a slow analysis answers at once; its notification follows the analysis."""
    import time

    from tests.agent.incidents.support import FakeAnalyzer, fixture_body, wait_for

    analyzer = FakeAnalyzer(delay=6.0)
    async with running_app(_settings(redis_url, notifier), analyzer=analyzer) as (_app, client):
        await client.post("/alerts", json=fixture_body(shared_fixtures, "firing-single.json"))

        async def analysing():
            got = await client.get("/incidents/1", headers=AUTH)
            return got.status_code == 200 and any(e["kind"] == "analysis_started" for e in got.json()["timeline"])

        await wait_for(analysing)
        started = time.monotonic()
        response = await client.post("/incidents/1/status", headers=AUTH, json={"status": "RESOLVED", "actor": "gina"})
        waited = time.monotonic() - started

        async def settled():
            got = (await client.get("/incidents/1", headers=AUTH)).json()
            return got if not got["pending"] else None

        final = await wait_for(settled, timeout=20)
        metrics = (await client.get("/prometheus/metrics")).text
    assert response.status_code == 200 and response.json()["status"] == "RESOLVED"
    assert 'oncall_incident_notifications_total{event="opened",outcome="skipped"} 1.0' in metrics
    assert 'oncall_incident_notifications_total{event="resolved",outcome="ok"} 1.0' in metrics
    assert waited < 4.5, waited  # the analysis holds the incident for 6 s; the API waits 2 s at most
    # no `opened` after (or titled) RESOLVED: the resolved email, which carries the report, is the one sent
    assert [c["event"] for c in notifier.calls] == ["resolved"]
    assert "## Analysis: 5xx errors on be_app" in notifier.calls[0]["report_markdown"]
    skipped = [e for e in final["timeline"] if e["kind"] == "notification_skipped"]
    assert len(skipped) == 1 and skipped[0]["data"]["event"] == "opened"
    assert final["reports"], "the analysis still lands on the resolved incident"


async def test_a_manual_incident_is_analyzed_only_when_asked(redis_url, notifier) -> None:
    from tests.agent.incidents.support import FakeAnalyzer, wait_for

    analyzer = FakeAnalyzer(delay=1.0)
    async with running_app(_settings(redis_url, notifier), analyzer=analyzer) as (_app, client):
        plain = await client.post("/incidents", headers=AUTH, json={"title": "Checkout slow", "backend": "be_checkout"})
        asked = await client.post("/incidents", headers=AUTH, json={
            "title": "Checkout slow again", "backend": "be_checkout", "analyze": True, "actor": "bob"})

        async def settled():
            got = (await client.get("/incidents/2", headers=AUTH)).json()
            return got if not got["pending"] else None

        final = await wait_for(settled, timeout=20)
        both = await client.post("/incidents", headers=AUTH, json={
            "title": "x", "analyze": True, "report": make_report().model_dump(mode="json")})
    assert plain.status_code == 201 and plain.json()["reports"] == []
    assert asked.status_code == 201, asked.text
    assert [p["kind"] for p in asked.json()["pending"]] == ["analyze", "notify"], "answered before the analysis"
    assert len(analyzer.requests) == 1, "only the incident that asked was analyzed"
    assert analyzer.requests[0].backend == "be_checkout" and analyzer.requests[0].window == "15m"
    assert final["status"] == "INVESTIGATING" and len(final["reports"]) == 1
    opened = [c for c in notifier.calls if str(c["incident_id"]) == "2"]
    assert [c["event"] for c in opened] == ["opened"]
    assert "## Analysis: 5xx errors on be_app" in opened[0]["report_markdown"], "the email carries the report"
    assert both.status_code == 422 and "not both" in both.text


async def test_unfiltered_list_is_paged_from_the_index(redis_url, notifier) -> None:
    """Issue 14 finding 6 (first part): `cursor` pages the list; `next_cursor` says where the next starts."""
    async with running_app(_settings(redis_url, notifier)) as (_app, client):
        for n in range(5):
            await client.post("/incidents", headers=AUTH, json={"title": f"t{n}"})
        first = (await client.get("/incidents", params={"limit": 2}, headers=AUTH)).json()
        second = (await client.get("/incidents", params={"limit": 2, "cursor": 2}, headers=AUTH)).json()
        last = (await client.get("/incidents", params={"limit": 2, "cursor": 4}, headers=AUTH)).json()
    assert [i["id"] for i in first["incidents"]] == [5, 4] and first["next_cursor"] == 2
    assert [i["id"] for i in second["incidents"]] == [3, 2] and second["next_cursor"] == 4
    assert [i["id"] for i in last["incidents"]] == [1] and last["next_cursor"] is None and last["count"] == 1

"""POST /alerts end to end inside the app: real redis-server, the app's own worker, a fake
analyzer, and a fake notifier on loopback."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest

from tests.agent.incidents.support import (
    FakeAnalyzer,
    FakeNotifier,
    fixture_body,
    running_notifier,
    running_app,
    settings_for,
    wait_for,
)

FIXTURES = ["firing-single.json", "firing-second-group.json", "resolved.json"]


@pytest.fixture
def notifier():
    with running_notifier("n-token") as fake:
        yield fake


def _settings(redis_url: str, notifier: FakeNotifier, **kw):
    return settings_for(redis_url, notifier.url, notifier_token="n-token", **kw)  # type: ignore[attr-defined]


async def _incident(client, incident_id: int, status: str | None = None):
    async def check():
        response = await client.get(f"/incidents/{incident_id}")
        if response.status_code != 200:
            return None
        body = response.json()
        if body["pending"] or (status and body["status"] != status):
            return None
        return body

    return await wait_for(check)


@pytest.mark.parametrize("name", FIXTURES)
async def test_every_real_fixture_is_accepted(name: str, redis_url: str, notifier, shared_fixtures: Path) -> None:
    body = fixture_body(shared_fixtures, name)
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer()) as (_app, client):
        response = await client.post("/alerts", json=body)
        assert response.status_code == 202, response.text
        result = response.json()
        assert result["duplicate"] is False
        if body["status"] == "firing":
            assert result["incident_ids"] == [1]
            incident = await _incident(client, 1, "INVESTIGATING")
            assert incident["source"] == "alertmanager"
            assert incident["group_key"] == body["groupKey"]
            assert incident["alerts"][0]["fingerprint"] == body["alerts"][0]["fingerprint"]
            assert incident["title"].startswith(body["commonLabels"]["alertname"])
        else:  # a resolved group we never saw firing: nothing to open
            assert result["incident_ids"] == []


async def test_firing_opens_investigates_analyses_and_notifies_once(redis_url, notifier, shared_fixtures) -> None:
    analyzer = FakeAnalyzer()
    body = fixture_body(shared_fixtures, "firing-second-group.json")
    body["alerts"][0]["labels"]["backend"] = "be_app"
    body["commonLabels"]["backend"] = "be_app"
    async with running_app(_settings(redis_url, notifier), analyzer=analyzer) as (_app, client):
        assert (await client.post("/alerts", json=body)).json() == {"incident_ids": [1], "duplicate": False}
        incident = await _incident(client, 1, "INVESTIGATING")
    kinds = [e["kind"] for e in incident["timeline"]]
    assert kinds[:3] == ["incident_opened", "alert_received", "status_changed"]
    assert "analysis_started" in kinds and "analysis_finished" in kinds and "notification_sent" in kinds
    assert incident["severity"] == "critical"  # label severity=page
    assert incident["reports"][0]["title"] == "5xx errors on be_app"
    # the analysis is scoped by the labels, and alert text never becomes the question
    assert len(analyzer.requests) == 1
    assert analyzer.requests[0].backend == "be_app"
    assert analyzer.requests[0].question is None
    assert [c["event"] for c in notifier.calls] == ["opened"]
    call = notifier.calls[0]
    assert call["incident_id"] == 1 and call["severity"] == "critical"
    # the notifier builds "[SEVERITY] #id title — event" itself: the title comes plain
    assert call["title"] == incident["title"]
    assert not call["title"].startswith("[")
    assert call["url"].endswith("/incidents/1")
    assert "5xx errors on be_app" in call["report_markdown"]


async def test_sequential_duplicates_change_nothing(redis_url, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-single.json")
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer()) as (_app, client):
        first = await client.post("/alerts", json=body)
        before = await _incident(client, 1, "INVESTIGATING")
        again = [await client.post("/alerts", json=body) for _ in range(3)]
        await asyncio.sleep(0.5)
        after = await _incident(client, 1)
        listing = (await client.get("/incidents")).json()
    assert first.json() == {"incident_ids": [1], "duplicate": False}
    assert all(r.status_code == 202 and r.json() == {"incident_ids": [1], "duplicate": True} for r in again)
    assert after["timeline"] == before["timeline"]
    assert listing["count"] == 1
    assert len(notifier.calls) == 1


async def test_concurrent_duplicates_make_one_incident_and_one_email(redis_url, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-second-group.json")
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer(delay=0.1)) as (_app, client):
        responses = await asyncio.gather(*(client.post("/alerts", json=body) for _ in range(20)))
        await _incident(client, 1, "INVESTIGATING")
        await asyncio.sleep(0.3)
        listing = (await client.get("/incidents")).json()
    results = [r.json() for r in responses]
    assert all(r.status_code == 202 for r in responses)
    assert sum(not r["duplicate"] for r in results) == 1
    assert {tuple(r["incident_ids"]) for r in results} == {(1,)}
    assert listing["count"] == 1
    assert len(notifier.calls) == 1


async def test_firing_resolved_firing(redis_url, notifier, shared_fixtures) -> None:
    """Resolved → MITIGATED; firing again while MITIGATED reopens the same incident; after a human
    RESOLVED it, the group firing again opens a new incident linked to the first."""
    firing = fixture_body(shared_fixtures, "firing-second-group.json")
    resolved = fixture_body(shared_fixtures, "resolved.json")
    refire = copy.deepcopy(firing)
    refire["alerts"][0]["startsAt"] = "2026-11-22T14:20:00.000Z"
    third = copy.deepcopy(firing)
    third["alerts"][0]["startsAt"] = "2026-11-22T15:00:00.000Z"
    analyzer = FakeAnalyzer()
    async with running_app(_settings(redis_url, notifier), analyzer=analyzer) as (_app, client):
        assert (await client.post("/alerts", json=firing)).json()["incident_ids"] == [1]
        await _incident(client, 1, "INVESTIGATING")
        assert (await client.post("/alerts", json=resolved)).json() == {"incident_ids": [1], "duplicate": False}
        mitigated = await _incident(client, 1, "MITIGATED")
        assert mitigated["mitigated_at"] is not None
        assert mitigated["alerts"][0]["status"] == "resolved"

        assert (await client.post("/alerts", json=refire)).json()["incident_ids"] == [1]
        reopened = await _incident(client, 1, "INVESTIGATING")
        assert any(e["kind"] == "reopened" for e in reopened["timeline"])
        assert len(reopened["reports"]) == 2

        done = await client.post("/incidents/1/status", json={
            "status": "RESOLVED", "actor": "alice", "root_cause": "probe flag stuck", "resolution": "reset flag"})
        assert done.status_code == 200, done.text
        assert (await client.post("/alerts", json=third)).json() == {"incident_ids": [2], "duplicate": False}
        second = await _incident(client, 2, "INVESTIGATING")
        first = await _incident(client, 1)
    assert second["related_incident_id"] == 1
    assert first["status"] == "RESOLVED"
    assert [c["event"] for c in notifier.calls] == ["opened", "mitigated", "updated", "resolved", "opened"]
    assert [c["incident_id"] for c in notifier.calls] == [1, 1, 1, 1, 2]


async def test_new_alert_joins_the_open_incident(redis_url, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-second-group.json")
    bigger = copy.deepcopy(body)
    extra = copy.deepcopy(body["alerts"][0])
    extra["fingerprint"] = "aaaaaaaaaaaaaaaa"
    extra["labels"]["instance"] = "127.0.0.1:9999"
    bigger["alerts"].append(extra)
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer()) as (_app, client):
        await client.post("/alerts", json=body)
        await _incident(client, 1, "INVESTIGATING")
        assert (await client.post("/alerts", json=bigger)).json() == {"incident_ids": [1], "duplicate": False}

        async def two_alerts():
            incident = await _incident(client, 1)
            return incident if len(incident["alerts"]) == 2 else None

        incident = await wait_for(two_alerts)
    assert incident["status"] == "INVESTIGATING"
    assert [c["event"] for c in notifier.calls] == ["opened", "updated"]


async def test_truncated_alerts_are_accepted_and_noted(redis_url, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-single.json")
    body["truncatedAlerts"] = 7
    body["someFutureField"] = {"x": 1}
    body["alerts"][0]["someFutureAlertField"] = True
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer()) as (_app, client):
        response = await client.post("/alerts", json=body)
        assert response.status_code == 202
        incident = await _incident(client, 1, "INVESTIGATING")
        same_but_untruncated = dict(body, truncatedAlerts=0)
        assert (await client.post("/alerts", json=same_but_untruncated)).json()["duplicate"] is False
    assert any("left 7 alert(s) out" in e["message"] for e in incident["timeline"])


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b.update(status="exploded"), "status"),
        (lambda b: b["alerts"][0].update(status="exploded"), "status"),
        (lambda b: b.update(alerts=[]), "alerts"),
        (lambda b: b.pop("alerts"), "alerts"),
        (lambda b: b.update(alerts="many"), "alerts"),
    ],
)
async def test_what_cannot_be_an_alert_is_422_with_the_reason(mutate, reason, redis_url, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-single.json")
    mutate(body)
    async with running_app(_settings(redis_url, notifier)) as (_app, client):
        response = await client.post("/alerts", json=body)
        listing = (await client.get("/incidents")).json()
    assert response.status_code == 422
    assert reason in response.text
    assert listing["count"] == 0


async def test_unreadable_body_is_422(redis_url, notifier) -> None:
    async with running_app(_settings(redis_url, notifier)) as (_app, client):
        not_json = await client.post("/alerts", content=b"{not json", headers={"content-type": "application/json"})
        not_object = await client.post("/alerts", json=[1, 2])
    assert not_json.status_code == 422
    assert not_object.status_code == 422


async def test_alerts_token(redis_url, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-single.json")
    async with running_app(_settings(redis_url, notifier, alerts_token="am-secret")) as (_app, client):
        missing = await client.post("/alerts", json=body)
        wrong = await client.post("/alerts", json=body, headers={"Authorization": "Bearer nope"})
        listing = (await client.get("/incidents")).json()
        right = await client.post("/alerts", json=body, headers={"Authorization": "Bearer am-secret"})
    assert missing.status_code == 401
    assert wrong.status_code == 403
    assert listing["count"] == 0
    assert right.status_code == 202


async def test_redis_down_answers_503_so_alertmanager_retries(fresh_redis, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-single.json")
    async with running_app(_settings(fresh_redis.url, notifier, alert_worker_enabled=False)) as (_app, client):
        fresh_redis.kill()
        response = await client.post("/alerts", json=body)
    assert response.status_code == 503
    assert response.headers["retry-after"]


async def test_metrics_count_deliveries(redis_url, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-single.json")
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer()) as (_app, client):
        await client.post("/alerts", json=body)
        await client.post("/alerts", json=body)
        await client.post("/alerts", json={"version": "4"})
        await _incident(client, 1, "INVESTIGATING")
        text = (await client.get("/prometheus/metrics")).text
    assert 'oncall_alerts_received_total{outcome="accepted",status="firing"} 1.0' in text
    assert 'oncall_alerts_received_total{outcome="duplicate",status="firing"} 1.0' in text
    assert 'oncall_alerts_received_total{outcome="invalid",status="unknown"} 1.0' in text
    assert 'oncall_incidents_total{source="alertmanager"} 1.0' in text
    assert "oncall_incidents_open" in text and "oncall_alert_queue_depth" in text


async def test_a_slow_analysis_does_not_hold_up_another_group(redis_url, notifier, shared_fixtures) -> None:
    first = fixture_body(shared_fixtures, "firing-single.json")
    second = fixture_body(shared_fixtures, "firing-second-group.json")
    # 8 s of analysis against a 5 s wait for the second group: a margin a loaded CI machine keeps
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer(delay=8.0)) as (_app, client):
        await client.post("/alerts", json=first)

        async def analysing(incident_id: int):
            got = await client.get(f"/incidents/{incident_id}")
            return got.status_code == 200 and any(e["kind"] == "analysis_started" for e in got.json()["timeline"])

        await wait_for(lambda: analysing(1))
        assert (await client.post("/alerts", json=second)).json()["incident_ids"] == [2]
        await wait_for(lambda: analysing(2), timeout=5.0)
        first_now = (await client.get("/incidents/1")).json()
        assert not any(e["kind"] == "analysis_finished" for e in first_now["timeline"])
        await _incident(client, 1, "INVESTIGATING")
        await _incident(client, 2, "INVESTIGATING")
    assert sorted(c["incident_id"] for c in notifier.calls) == [1, 2]

"""The dead man's switch: the Watchdog alert is a heartbeat; when it stops arriving the agent
pages by itself, once; when it comes back, that incident is MITIGATED. Real redis-server, the
app's own worker, a fake notifier on loopback."""

from __future__ import annotations

import asyncio
import copy

import pytest

from tests.agent.incidents.support import FakeAnalyzer, fixture_body, running_app, running_notifier, settings_for, wait_for


@pytest.fixture
def notifier():
    with running_notifier("n-token") as fake:
        yield fake


def _heartbeat(shared_fixtures):
    body = fixture_body(shared_fixtures, "firing-single.json")
    body["alerts"] = [copy.deepcopy(body["alerts"][0])]
    body["alerts"][0]["labels"] = {"alertname": "Watchdog", "severity": "none"}
    body["alerts"][0].pop("fingerprint")
    body["commonLabels"] = body["groupLabels"] = {"alertname": "Watchdog"}
    return body


async def test_watchdog_silence_pages_once_and_its_return_mitigates(redis_url, notifier, shared_fixtures) -> None:
    settings = settings_for(redis_url, notifier.url, notifier_token="n-token", watchdog_timeout_s=0.5)
    async with running_app(settings, analyzer=FakeAnalyzer()) as (app, client):
        first = await client.post("/alerts", json=_heartbeat(shared_fixtures))
        assert first.status_code == 202 and first.json() == {"incident_ids": [], "duplicate": False}
        assert (await client.get("/incidents")).json()["count"] == 0
        await asyncio.sleep(0.8)
        worker = app.state.agent.worker
        worker._last_housekeeping = 0.0  # the next round is a full housekeeping round
        await worker.housekeeping()
        listing = await wait_for(lambda: _listing(client, 1))
        incident = listing["incidents"][0]
        assert incident["severity"] == "critical"
        assert "Alert pipeline broken" in incident["title"]
        worker._last_housekeeping = 0.0
        await worker.housekeeping()  # still silent: no second incident
        assert (await client.get("/incidents")).json()["count"] == 1

        again = await client.post("/alerts", json=_heartbeat(shared_fixtures))
        assert again.json()["incident_ids"] == []
        mitigated = await wait_for(lambda: _status(client, incident["id"], "MITIGATED"))
        text = (await client.get("/prometheus/metrics")).text
    assert any("Watchdog alert arrives again" in e["message"] for e in mitigated["timeline"])
    assert [c["event"] for c in notifier.calls] == ["opened", "mitigated"]
    assert 'oncall_alerts_received_total{outcome="heartbeat",status="firing"} 2.0' in text


async def test_no_heartbeat_ever_is_not_a_broken_pipeline(redis_url, notifier) -> None:
    settings = settings_for(redis_url, notifier.url, notifier_token="n-token", watchdog_timeout_s=0.1)
    async with running_app(settings) as (app, client):
        await asyncio.sleep(0.3)
        app.state.agent.worker._last_housekeeping = 0.0
        await app.state.agent.worker.housekeeping()
        assert (await client.get("/incidents")).json()["count"] == 0
    assert notifier.calls == []


async def _listing(client, count: int):
    body = (await client.get("/incidents")).json()
    return body if body["count"] == count else None


async def _status(client, incident_id: int, status: str):
    body = (await client.get(f"/incidents/{incident_id}")).json()
    return body if body["status"] == status and not body["pending"] else None

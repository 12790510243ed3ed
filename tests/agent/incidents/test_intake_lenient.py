"""POST /alerts never refuses a page that can be read (Alertmanager does not retry a 4xx), and a
group that fires again after it resolved is a new page whatever its startsAt. Real redis-server,
the app's own worker, a fake notifier on loopback."""

from __future__ import annotations

import copy
import json

import pytest

from agent_service.incidents.webhook import MAX_VALUE_CHARS, TRUNCATED, WebhookPayload, label_fingerprint
from tests.agent.incidents.support import FakeAnalyzer, fixture_body, running_app, running_notifier, settings_for, wait_for

# Grafana's Alertmanager-compatible webhook, shaped as Grafana's webhook-notifier documentation
# shows it (version "1", orgId, state, title, message, values, silence/dashboard/panel URLs).
GRAFANA = {
    "receiver": "My Super Webhook",
    "status": "firing",
    "orgId": 1,
    "alerts": [{
        "status": "firing",
        "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1", "backend": "be_app"},
        "annotations": {"description": "The system has high memory usage",
                        "runbook_url": "https://myrunbook.com/runbook/1234",
                        "summary": "This alert was triggered for zone us-1"},
        "startsAt": "2026-10-12T09:51:03.157076+02:00",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
        "fingerprint": "c6eadffa33fcdf37",
        "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2",
        "dashboardURL": "",
        "panelURL": "",
        "values": {"B": 44.23943737541908, "C": 1},
    }],
    "groupLabels": {"alertname": "High memory usage"},
    "commonLabels": {"alertname": "High memory usage", "team": "blue", "backend": "be_app"},
    "commonAnnotations": {},
    "externalURL": "https://play.grafana.org/",
    "version": "1",
    "groupKey": "{}:{alertname=\"High memory usage\"}",
    "truncatedAlerts": 0,
    "title": "[FIRING:1] High memory usage (blue)",
    "state": "alerting",
    "message": "**Firing**\n\nValue: B=44.2, C=1",
}


@pytest.fixture
def notifier():
    with running_notifier("n-token") as fake:
        yield fake


def _settings(redis_url, notifier, **kw):
    return settings_for(redis_url, notifier.url, notifier_token="n-token", **kw)


async def _settled(client, incident_id: int, status: str):
    async def check():
        got = await client.get(f"/incidents/{incident_id}")
        body = got.json() if got.status_code == 200 else None
        return body if body and not body["pending"] and body["status"] == status else None

    return await wait_for(check)


def test_derived_fingerprint_is_alertmanagers(shared_fixtures) -> None:
    """The fixtures' fingerprints were computed by the real Alertmanager."""
    for name in ("firing-single.json", "firing-second-group.json", "resolved.json"):
        for alert in fixture_body(shared_fixtures, name)["alerts"]:
            assert label_fingerprint(alert["labels"]) == alert["fingerprint"]


def test_values_are_bounded_with_a_marker() -> None:
    body = copy.deepcopy(GRAFANA)
    body["alerts"][0]["labels"]["huge"] = "x" * (5 * 1024 * 1024)
    body["alerts"][0]["annotations"]["description"] = "y" * 10_000
    payload = WebhookPayload.model_validate(body)
    alert = payload.alerts[0]
    assert len(alert.labels["huge"]) == MAX_VALUE_CHARS and alert.labels["huge"].endswith(TRUNCATED)
    assert len(alert.annotations["description"]) == MAX_VALUE_CHARS
    assert alert.labels["zone"] == "us-1"


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        (lambda b: b["alerts"][0].pop("fingerprint"),
         lambda inc, b: inc["alerts"][0]["fingerprint"] == label_fingerprint(b["alerts"][0]["labels"])),
        (lambda b: b.pop("groupKey"), lambda inc, b: inc["group_key"].startswith(b["receiver"] + ":")),
        (lambda b: b.update(version="3"), lambda inc, b: True),
        (lambda b: b.pop("version"), lambda inc, b: True),
        (lambda b: b.pop("status"), lambda inc, b: inc["alerts"][0]["status"] == "firing"),
        (lambda b: b["alerts"][0].pop("status"), lambda inc, b: inc["alerts"][0]["status"] == "firing"),
        (lambda b: b.update(truncatedAlerts=-1), lambda inc, b: True),
        (lambda b: b["alerts"][0].update(startsAt="yesterday"),
         lambda inc, b: any("'yesterday'" in e["message"] for e in inc["timeline"])),
        (lambda b: b["alerts"][0].update(startsAt="0001-01-01T00:00:00Z"),
         lambda inc, b: any("receipt time" in e["message"] for e in inc["timeline"])),
        (lambda b: b["alerts"][0].update(startsAt="9999-12-31T23:59:59Z"),
         lambda inc, b: any("receipt time" in e["message"] for e in inc["timeline"])),
        (lambda b: b["alerts"][0].pop("startsAt"), lambda inc, b: inc["detected_at"] is not None),
    ],
    ids=["no-fingerprint", "no-groupKey", "version-3", "no-version", "no-status", "no-alert-status",
         "negative-truncated", "startsAt-unreadable", "startsAt-year-1", "startsAt-year-9999", "no-startsAt"],
)
async def test_a_readable_page_is_accepted_and_sent(mutate, check, redis_url, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-single.json")
    mutate(body)
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer()) as (_app, client):
        response = await client.post("/alerts", json=body)
        assert response.status_code == 202, response.text
        assert response.json() == {"incident_ids": [1], "duplicate": False}
        incident = await _settled(client, 1, "INVESTIGATING")
        again = await client.post("/alerts", json=body)  # Alertmanager's retry: still one page
    assert check(incident, body), incident
    assert again.json()["duplicate"] is True
    assert [c["event"] for c in notifier.calls] == ["opened"]


async def test_grafana_webhook_opens_an_incident(redis_url, notifier) -> None:
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer()) as (_app, client):
        response = await client.post("/alerts", json=GRAFANA)
        assert response.status_code == 202, response.text
        incident = await _settled(client, 1, "INVESTIGATING")
    assert incident["scope"]["backend"] == "be_app"
    assert incident["alerts"][0]["fingerprint"] == "c6eadffa33fcdf37"
    assert [c["event"] for c in notifier.calls] == ["opened"]


async def test_lone_surrogate_is_read_not_refused(redis_url, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-single.json")
    raw = json.dumps(body).replace('"AlwaysFiring"', '"Always\\ud800Firing"', 1)
    assert "\\ud800" in raw
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer()) as (_app, client):
        response = await client.post("/alerts", content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 202, response.text
        incident = await _settled(client, 1, "INVESTIGATING")
    assert incident["alerts"][0]["labels"]["alertname"] == "Always\ufffdFiring"


async def test_a_delivery_over_the_cap_is_413(redis_url, notifier, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-single.json")
    body["alerts"] = [copy.deepcopy(body["alerts"][0]) for _ in range(40)]
    for i, alert in enumerate(body["alerts"]):
        alert["labels"]["big"] = f"{i}" + "z" * 4000
    async with running_app(_settings(redis_url, notifier, alerts_max_body_bytes=64 * 1024)) as (_app, client):
        response = await client.post("/alerts", json=body)
        listing = (await client.get("/incidents")).json()
    assert response.status_code == 413
    assert "at most 65536 bytes" in response.text
    assert listing["count"] == 0


async def test_refiring_with_the_same_starts_at_reopens(redis_url, notifier, shared_fixtures) -> None:
    """A flapping alert (or a lifted silence) fires, resolves, fires again with the same startsAt:
    the second firing is a new page, not a duplicate of the first; its own retries are."""
    firing = fixture_body(shared_fixtures, "firing-second-group.json")
    resolved = fixture_body(shared_fixtures, "resolved.json")
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer()) as (_app, client):
        assert (await client.post("/alerts", json=firing)).json() == {"incident_ids": [1], "duplicate": False}
        await _settled(client, 1, "INVESTIGATING")
        assert (await client.post("/alerts", json=resolved)).json() == {"incident_ids": [1], "duplicate": False}
        assert (await client.post("/alerts", json=resolved)).json()["duplicate"] is True
        await _settled(client, 1, "MITIGATED")
        refire = await client.post("/alerts", json=firing)
        assert refire.json() == {"incident_ids": [1], "duplicate": False}
        reopened = await _settled(client, 1, "INVESTIGATING")
        assert (await client.post("/alerts", json=firing)).json()["duplicate"] is True
        # and once more round the loop
        assert (await client.post("/alerts", json=resolved)).json()["duplicate"] is False
        await _settled(client, 1, "MITIGATED")
        assert (await client.post("/alerts", json=firing)).json()["duplicate"] is False
        await _settled(client, 1, "INVESTIGATING")
    assert any(e["kind"] == "reopened" for e in reopened["timeline"])
    assert [c["event"] for c in notifier.calls] == ["opened", "mitigated", "updated", "mitigated", "updated"]


async def test_the_page_carries_the_alert_links_the_email_may_keep(redis_url, notifier, shared_fixtures) -> None:
    """generatorURL and externalURL as Alertmanager sent them go to the notifier's link allowlist;
    anything that is not http(s) is dropped there, never the page."""
    body = fixture_body(shared_fixtures, "firing-single.json")
    second = copy.deepcopy(body["alerts"][0])
    second["labels"]["instance"] = "other"
    second.pop("fingerprint")
    second["generatorURL"] = "javascript:alert(1)"
    body["alerts"].append(second)
    async with running_app(_settings(redis_url, notifier), analyzer=FakeAnalyzer()) as (_app, client):
        assert (await client.post("/alerts", json=body)).status_code == 202
        await _settled(client, 1, "INVESTIGATING")
    [opened] = notifier.calls
    assert opened["links"] == [body["alerts"][0]["generatorURL"], body["externalURL"]]

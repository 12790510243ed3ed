"""Slack buttons: POST /integrations/slack/actions verifies the v0 signature (HMAC-SHA256 over
`v0:{timestamp}:{raw body}`, 5 minutes of skew), acts on the incident as the Slack user, and
replaces the message through the payload's response_url (a local fake checking Slack's shape).
Real redis-server, the app's lifespan, a fake notifier."""

from __future__ import annotations

import time

import pytest

from agent_service.chat import slack
from tests.agent.incidents.support import running_app, settings_for
from tests.fakes.slack_response_url import block_actions, running_slack_response_url, signed

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PATH = "/integrations/slack/actions"


@pytest.fixture
def response_url():
    with running_slack_response_url() as fake:
        yield fake


def test_signature_is_slacks_v0_and_checked_in_constant_time_with_5_minutes_of_skew() -> None:
    # The worked example of Slack's "Verifying requests from Slack" page.
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert slack.signature(SECRET, "1531420618", body) == expected
    slack.verify(SECRET, timestamp="1531420618", sent=expected, body=body, now=1531420618 + 299)
    with pytest.raises(slack.SlackRejected, match="5 minutes"):
        slack.verify(SECRET, timestamp="1531420618", sent=expected, body=body, now=1531420618 + 301)
    with pytest.raises(slack.SlackRejected, match="does not match"):
        slack.verify(SECRET, timestamp="1531420618", sent=expected, body=body + b"x", now=1531420618)
    with pytest.raises(slack.SlackRejected, match="missing"):
        slack.verify(SECRET, timestamp=None, sent=expected, body=body, now=1531420618)


async def _critical(client) -> int:
    created = await client.post("/incidents", json={"title": "5xx on be_app <b>&", "severity": "critical",
                                                    "actor": "system:script"})
    return int(created.json()["id"])


async def test_ack_then_resolve_buttons_act_as_the_slack_user_and_replace_the_message(
        redis_url, notifier, response_url) -> None:
    settings = settings_for(redis_url, notifier.url, slack_signing_secret=SECRET)
    async with running_app(settings) as (_app, client):
        incident_id = await _critical(client)
        body, headers = signed(SECRET, block_actions(incident_id, "ack", response_url=response_url.response_url()))
        assert (await client.post(PATH, content=body, headers=headers)).status_code == 200
        acked = (await client.get(f"/incidents/{incident_id}")).json()
        body, headers = signed(SECRET, block_actions(incident_id, "resolved", username="bob",
                                                     response_url=response_url.response_url()))
        assert (await client.post(PATH, content=body, headers=headers)).status_code == 200
        resolved = (await client.get(f"/incidents/{incident_id}")).json()
    assert acked["acknowledged_by"] == "slack:alice"
    assert any(e["kind"] == "acknowledged" and e["actor"] == "slack:alice" for e in acked["timeline"])
    assert resolved["status"] == "RESOLVED" and resolved["acknowledged_by"] == "slack:alice"
    assert [e["actor"] for e in resolved["timeline"] if e["kind"] == "status_changed"] == ["slack:bob"]

    first, second = response_url.received
    assert first["replace_original"] is True
    section, context, actions = first["blocks"]
    assert section["text"]["type"] == "mrkdwn"
    assert "5xx on be_app &lt;b&gt;&amp;" in section["text"]["text"]  # outside text escaped for mrkdwn
    assert "acknowledged by slack:alice" in section["text"]["text"]
    assert context["elements"][0]["text"] == f"#{incident_id} acknowledged by slack:alice"
    assert [(b["action_id"], b["value"]) for b in actions["elements"]] == [
        ("mitigated", str(incident_id)), ("resolved", str(incident_id))]  # no second Acknowledge
    assert [b["type"] for b in second["blocks"]] == ["section", "context"]  # RESOLVED: no buttons left
    assert second["blocks"][1]["elements"][0]["text"] == f"#{incident_id} marked RESOLVED by slack:bob"
    assert response_url.paths == ["/actions/T1/B1/tok"] * 2
    assert [c["event"] for c in notifier.sent] == ["opened", "resolved"]


async def test_bad_signature_and_replayed_request_are_401_and_change_nothing(redis_url, notifier, response_url) -> None:
    settings = settings_for(redis_url, notifier.url, slack_signing_secret=SECRET)
    async with running_app(settings) as (_app, client):
        incident_id = await _critical(client)
        payload = block_actions(incident_id, "ack", response_url=response_url.response_url())
        body, headers = signed("not-the-secret", payload)
        forged = await client.post(PATH, content=body, headers=headers)
        body, headers = signed(SECRET, payload, timestamp=int(time.time()) - 301)
        replayed = await client.post(PATH, content=body, headers=headers)
        body, headers = signed(SECRET, payload)
        tampered = await client.post(PATH, content=body.replace(b"alice", b"mallory"), headers=headers)
        unsigned = await client.post(PATH, content=body, headers={"Content-Type": headers["Content-Type"]})
        incident = (await client.get(f"/incidents/{incident_id}")).json()
    assert [r.status_code for r in (forged, replayed, tampered, unsigned)] == [401, 401, 401, 401]
    assert "5 minutes" in replayed.json()["detail"]
    assert incident["acknowledged_by"] is None
    assert response_url.received == []


async def test_signed_but_unreadable_payloads_are_4xx_and_unknown_buttons_are_ignored(
        redis_url, notifier, response_url) -> None:
    settings = settings_for(redis_url, notifier.url, slack_signing_secret=SECRET)
    async with running_app(settings) as (_app, client):
        incident_id = await _critical(client)
        body, headers = signed(SECRET, block_actions("12; DROP", "ack", response_url=response_url.response_url()))
        bad_value = await client.post(PATH, content=body, headers=headers)
        garbage = b"payload=%7Bnot-json"
        ts = str(int(time.time()))
        bad_json = await client.post(PATH, content=garbage, headers={
            "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack.signature(SECRET, ts, garbage)})
        body, headers = signed(SECRET, block_actions(incident_id, "page_everyone",
                                                     response_url=response_url.response_url()))
        unknown = await client.post(PATH, content=body, headers=headers)
        body, headers = signed(SECRET, block_actions(999, "ack", response_url=response_url.response_url()))
        missing = await client.post(PATH, content=body, headers=headers)
    assert (bad_value.status_code, bad_json.status_code, unknown.status_code, missing.status_code) == (400, 400, 200, 200)
    assert response_url.received == [{"replace_original": False, "response_type": "ephemeral",
                                      "text": "incident #999 not found"}]


async def test_the_route_is_404_without_a_signing_secret(redis_url, notifier) -> None:
    async with running_app(settings_for(redis_url, notifier.url)) as (_app, client):
        body, headers = signed(SECRET, block_actions(1, "ack", response_url="http://127.0.0.1:9/x"))
        assert (await client.post(PATH, content=body, headers=headers)).status_code == 404


async def test_mitigated_button_and_a_refused_action_keep_the_message_truthful(redis_url, notifier, response_url) -> None:
    settings = settings_for(redis_url, notifier.url, slack_signing_secret=SECRET)
    async with running_app(settings) as (_app, client):
        incident_id = await _critical(client)
        for action in ("mitigated", "mitigated"):
            body, headers = signed(SECRET, block_actions(incident_id, action, response_url=response_url.response_url()))
            assert (await client.post(PATH, content=body, headers=headers)).status_code == 200
        incident = (await client.get(f"/incidents/{incident_id}")).json()
    assert incident["status"] == "MITIGATED" and incident["acknowledged_by"] == "slack:alice"
    done, refused = response_url.received
    assert [b["action_id"] for b in done["blocks"][2]["elements"]] == ["resolved"]
    assert refused["replace_original"] is True  # the message still shows the state, with why nothing changed
    assert refused["blocks"][1]["elements"][0]["text"] == f"#{incident_id}: incident is already MITIGATED"

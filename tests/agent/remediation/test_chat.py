"""Proposals decided from chat, with the chats' own checks (Slack's signature, Telegram's secret
and chat allow-list): Slack's messages offer Approve/Reject per pending proposal and the buttons act
as the Slack user; Telegram's `/approve N PID` and `/reject N PID` act as the Telegram user."""

from __future__ import annotations

import pytest

from agent_service.chat.telegram import Command, parse_command
from tests.agent.incidents.support import settings_for
from tests.agent.remediation.support import TOKEN, agent, incident_from_analysis, one_bad_server
from tests.fakes.slack_response_url import block_actions, running_slack_response_url, signed
from tests.fakes.telegram_bot_api import running_telegram_api, update

BREAKDOWN = one_bad_server("be_pay", "r3", ("r1", "r2"))
SLACK_SECRET = "slack-signing-secret-for-remediation"
BOT, TG_SECRET, CHAT = "123456:ABC-remediation", "tg-secret-remediation", -100777


@pytest.fixture
def response_url():
    with running_slack_response_url() as fake:
        yield fake


@pytest.fixture
def bot_api():
    with running_telegram_api(BOT) as fake:
        yield fake


async def test_slack_offers_the_pending_proposals_and_approves_as_the_slack_user(redis_url, notifier, response_url) -> None:
    settings = settings_for(redis_url, notifier.url, api_token=TOKEN, slack_signing_secret=SLACK_SECRET)
    async with agent(settings, BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client)
        pid = incident["proposals"][0]["id"]
        path = "/integrations/slack/actions"
        body, headers = signed(SLACK_SECRET, block_actions(incident["id"], "ack", response_url=response_url.response_url()))
        assert (await client.post(path, content=body, headers=headers)).status_code == 200
        body, headers = signed(SLACK_SECRET, block_actions(f"{incident['id']}:{pid}", f"proposal_approve:{pid}",
                                                           response_url=response_url.response_url()))
        assert (await client.post(path, content=body, headers=headers)).status_code == 200
        bad, bad_headers = signed(SLACK_SECRET, block_actions(f"{incident['id']}:x; drop", "proposal_approve",
                                                              response_url=response_url.response_url()))
        assert (await client.post(path, content=bad, headers=bad_headers)).status_code == 400
        forged, _ = signed("not-the-secret", block_actions(f"{incident['id']}:{pid}", "proposal_reject",
                                                           response_url=response_url.response_url()))
        assert (await client.post(path, content=forged, headers=headers)).status_code == 401
        record = (await client.get(f"/incidents/{incident['id']}/proposals")).json()["proposals"][0]
    assert (record["state"], record["decided_by"]) == ("approved", "slack:alice")  # no runtime socket here: a human carries it out
    acked, approved = response_url.received
    buttons = [(e["action_id"], e["value"]) for b in acked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    value = f"{incident['id']}:{pid}"
    assert (f"proposal_approve:{pid}", value) in buttons and (f"proposal_reject:{pid}", value) in buttons
    said = approved["blocks"][1]["elements"][0]["text"]
    assert said.startswith(f"#{incident['id']} {pid} approved by slack:alice: drain_server be_pay/r3 (approved)")
    assert not [e for b in approved["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"].startswith("proposal_")]  # nothing pending any more


def test_telegram_reads_approve_and_reject_with_their_two_arguments() -> None:
    assert parse_command("/approve 12 p3") == Command(name="approve", incident_id=12, proposal="p3")
    assert parse_command("/reject@OncallBot #12 P1") == Command(name="reject", incident_id=12, proposal="p1")
    assert parse_command("/approve 12").error == "usage: /approve N PID (an incident number and a proposal, e.g. p1)"  # type: ignore[union-attr]
    assert parse_command("/approve 12 p1;shutdown").error  # type: ignore[union-attr]


async def test_telegram_approve_and_reject_act_as_the_telegram_user_in_allowed_chats_only(redis_url, notifier, bot_api) -> None:
    settings = settings_for(redis_url, notifier.url, api_token=TOKEN, telegram_bot_token=BOT,
                            telegram_webhook_secret=TG_SECRET, telegram_chat_id=str(CHAT), telegram_api_url=bot_api.url)
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    path = "/integrations/telegram/webhook"
    async with agent(settings, BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client)
        n, pid = incident["id"], incident["proposals"][0]["id"]
        await client.post(path, json=update(777, f"/approve {n} {pid}"), headers=headers)  # not an allowed chat
        untouched = (await client.get(f"/incidents/{n}/proposals")).json()["proposals"][0]["state"]
        await client.post(path, json=update(CHAT, f"/incident {n}", update_id=2), headers=headers)
        await client.post(path, json=update(CHAT, f"/reject {n} {pid}", update_id=3), headers=headers)
        await client.post(path, json=update(CHAT, f"/approve {n} {pid}", update_id=4, username="carol"), headers=headers)
        record = (await client.get(f"/incidents/{n}/proposals")).json()["proposals"][0]
    assert untouched == "pending"
    assert (record["state"], record["decided_by"]) == ("rejected", "telegram:bob")
    shown, rejected, refused = (m["text"] for m in bot_api.sent)
    assert f"/approve {n} {pid}" in shown and "drain_server be_pay/r3" in shown
    assert rejected == f"#{n} {pid} rejected by telegram:bob: drain_server be_pay/r3"
    assert refused.startswith(f"#{n}: proposal {pid} is rejected")

"""The Telegram bot: POST /integrations/telegram/webhook checks X-Telegram-Bot-Api-Secret-Token,
answers /oncall, /incident N, /ack N, /resolve N from the chats in TELEGRAM_CHAT_ID only, with
sendMessage in HTML parse mode to a fake Bot API that refuses text Telegram could not parse."""

from __future__ import annotations

import pytest

from agent_service.chat.telegram import Command, parse_command
from tests.agent.incidents.support import running_app, settings_for
from tests.fakes.telegram_bot_api import running_telegram_api, update

TOKEN = "123456:ABC-test"
SECRET = "tg-webhook-secret"
PATH = "/integrations/telegram/webhook"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
ALLOWED, OTHER = -1001234, 777


@pytest.fixture
def bot_api():
    with running_telegram_api(TOKEN) as fake:
        yield fake


def _settings(redis_url: str, notifier, bot_api, **overrides):
    return settings_for(redis_url, notifier.url, telegram_bot_token=TOKEN, telegram_webhook_secret=SECRET,
                        telegram_chat_id=f"{ALLOWED}, 555", telegram_api_url=bot_api.url, **overrides)


def test_commands_are_read_with_or_without_the_bot_name() -> None:
    assert parse_command("/oncall@OncallBot") == Command(name="oncall")
    assert parse_command("/ack #12") == Command(name="ack", incident_id=12)
    assert parse_command("/resolve") == Command(name="resolve", error="usage: /resolve N (an incident number)")
    assert parse_command("/deploy prod").error == "unknown command /deploy"  # type: ignore[union-attr]
    assert parse_command("hello there") is None


async def _incident(client, title: str, severity: str = "critical") -> int:
    created = await client.post("/incidents", json={"title": title, "severity": severity, "actor": "system:test"})
    return int(created.json()["id"])


async def test_oncall_lists_open_incidents_with_who_has_them_escaped_for_html(redis_url, notifier, bot_api) -> None:
    async with running_app(_settings(redis_url, notifier, bot_api)) as (_app, client):
        first = await _incident(client, "<script>alert(1)</script> & 5xx", "critical")
        second = await _incident(client, "slow be_api", "warning")
        await client.post(f"/incidents/{second}/ack", json={"by": "alice"})
        closed = await _incident(client, "gone")
        await client.post(f"/incidents/{closed}/status", json={"status": "RESOLVED", "actor": "alice"})
        answered = await client.post(PATH, json=update(ALLOWED, "/oncall"), headers=HEADERS)
        detail = await client.post(PATH, json=update(ALLOWED, f"/incident {first}", update_id=2), headers=HEADERS)
    assert answered.status_code == 200 and detail.status_code == 200
    listing, one = bot_api.sent
    assert listing["chat_id"] == ALLOWED and listing["parse_mode"] == "HTML"
    text = listing["text"]
    assert text.startswith("<b>2 open incident(s)</b>")
    assert f"#{first} [CRITICAL] OPEN — &lt;script&gt;alert(1)&lt;/script&gt; &amp; 5xx\n<b>nobody has it</b>" in text
    assert f"#{second} [WARNING] OPEN — slow be_api\nhas it: alice" in text
    assert "gone" not in text
    assert text.index(f"#{second} ") < text.index(f"#{first} ")  # newest first
    assert one["text"].startswith(f"<b>#{first} &lt;script&gt;")
    assert f'<a href="http://127.0.0.1:8001/incidents/{first}">details</a>' in one["text"]


async def test_ack_and_resolve_act_as_the_telegram_user(redis_url, notifier, bot_api) -> None:
    async with running_app(_settings(redis_url, notifier, bot_api)) as (_app, client):
        incident_id = await _incident(client, "disk full")
        await client.post(PATH, json=update(ALLOWED, f"/ack {incident_id}"), headers=HEADERS)
        await client.post(PATH, json=update(ALLOWED, f"/resolve@OncallBot {incident_id}", update_id=2), headers=HEADERS)
        await client.post(PATH, json=update(ALLOWED, "/resolve 999", update_id=3), headers=HEADERS)
        incident = (await client.get(f"/incidents/{incident_id}")).json()
    assert incident["acknowledged_by"] == "telegram:bob" and incident["status"] == "RESOLVED"
    assert [m["text"] for m in bot_api.sent] == [
        f"#{incident_id} acknowledged by telegram:bob",
        f"#{incident_id} marked RESOLVED by telegram:bob",
        "incident #999 not found",
    ]


async def test_a_chat_not_allowed_is_ignored_and_a_wrong_secret_is_401(redis_url, notifier, bot_api) -> None:
    async with running_app(_settings(redis_url, notifier, bot_api)) as (_app, client):
        incident_id = await _incident(client, "disk full")
        ignored = await client.post(PATH, json=update(OTHER, f"/ack {incident_id}"), headers=HEADERS)
        listing = await client.post(PATH, json=update(OTHER, "/oncall", update_id=2), headers=HEADERS)
        wrong = await client.post(PATH, json=update(ALLOWED, f"/ack {incident_id}", update_id=3),
                                  headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
        none = await client.post(PATH, json=update(ALLOWED, f"/ack {incident_id}", update_id=4))
        garbage = await client.post(PATH, content=b"{not json", headers=HEADERS)
        incident = (await client.get(f"/incidents/{incident_id}")).json()
    assert (ignored.status_code, listing.status_code) == (200, 200)
    assert (wrong.status_code, none.status_code, garbage.status_code) == (401, 401, 400)
    assert incident["acknowledged_by"] is None
    assert bot_api.sent == []


async def test_the_webhook_is_404_without_its_secret(redis_url, notifier, bot_api) -> None:
    settings = settings_for(redis_url, notifier.url, telegram_bot_token=TOKEN, telegram_chat_id=str(ALLOWED),
                            telegram_api_url=bot_api.url)
    async with running_app(settings) as (_app, client):
        assert (await client.post(PATH, json=update(ALLOWED, "/oncall"), headers=HEADERS)).status_code == 404
    assert bot_api.sent == []

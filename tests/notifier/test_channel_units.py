"""Pure parts of the chat channels: message text, Block Kit, signature, settings."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from notifier_service.channels import slack, telegram, webhook
from notifier_service.channels.message import chat_message, defang, first_recommendations
from notifier_service.models import NotifyRequest
from notifier_service.settings import Settings


def fields(**overrides: str) -> dict[str, str]:
    base = {"id": "abc", "incident_id": "7", "event": "opened", "severity": "warning", "title": "p99 up",
            "summary": "", "report_markdown": "", "url": "https://copilot.example/incidents/7", "links": "{}"}
    return {**base, **overrides}


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"a":1}'
    headers = webhook.signed_headers("s" * 16, body, "abc", now=1700000000.9)
    assert headers["X-Oncall-Timestamp"] == "1700000000"
    expected = hmac.new(b"s" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers["X-Oncall-Signature"] == f"sha256={expected}" and headers["Idempotency-Key"] == "abc"


def test_defang_keeps_allowed_origins_only() -> None:
    allowed = frozenset({"https://copilot.example"})
    assert defang("https://copilot.example/x https://COPILOT.example:443/y", allowed) == (
        "https://copilot.example/x hxxps[:]//COPILOT[.]example:443/y")  # another origin (explicit port)
    assert defang("ftp://files.evil.example/a", allowed) == "fxp[:]//files[.]evil[.]example/a"


def test_first_recommendations_come_from_the_steps_heading_only() -> None:
    md = "## Diagnosis\n\n1. not a step\n\n### Recommendations\n\n1. one\n2) two\n- three\n4. four\n## Next\n1. no"
    assert first_recommendations(md) == ["one", "two", "three"]
    assert first_recommendations("## Findings\n\n1. x\n") == []


def test_resolved_has_no_action_buttons_but_keeps_the_link() -> None:
    blocks = slack.blocks(chat_message(fields(event="resolved", severity="ok")))
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["open"]


def test_a_mitigated_message_offers_acknowledge_and_resolved() -> None:
    (actions,) = [b for b in slack.blocks(chat_message(fields(event="mitigated"))) if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["ack", "resolved", "open"]


def test_a_long_telegram_message_is_cut_to_its_headline() -> None:
    steps = "## Recommendations\n\n" + "".join(f"{i}. {'&' * 400}\n" for i in (1, 2, 3))
    text = telegram.text(chat_message(fields(summary="&" * 2000, report_markdown=steps)))  # "&amp;" is 5 times longer
    assert len(text) < 4096 and text.endswith("(message too long; open the incident)")


@given(st.text(max_size=300))
def test_telegram_text_never_carries_markup_from_outside(title: str) -> None:
    out = telegram.text(chat_message(fields(title=title or "t", url="")))
    tags = out.count("<")
    assert tags == 4  # <b></b> <i></i> around the headline and the event: nothing else is a tag


def test_acknowledged_at_accepts_unix_or_rfc3339() -> None:
    a = NotifyRequest(incident_id=1, event="opened", title="t", acknowledged_by=" al\nice ", acknowledged_at=1764636060)
    b = NotifyRequest(incident_id=1, event="opened", title="t", acknowledged_by="bob",
                      acknowledged_at="2025-12-02T01:41:00+01:00")
    assert a.acknowledgement_fields() == {"acknowledged_by": "al ice", "acknowledged_at": "2025-12-02 00:41 UTC"}
    assert b.acknowledgement_fields()["acknowledged_at"] == "2025-12-02 00:41 UTC"
    with pytest.raises(ValidationError):
        NotifyRequest(incident_id=1, event="opened", title="t", acknowledged_at="yesterday")


@pytest.mark.parametrize("env", [
    {"slack_bot_token": "xoxb-1"},
    {"slack_bot_token": "xoxb-1", "slack_channel": "#c", "slack_webhook_url": "https://hooks.slack.com/x"},
    {"telegram_bot_token": "1:a"},
    {"webhook_urls": "https://a.example/h"},
    {"webhook_urls": "https://a.example/h", "webhook_secret": "short"},
    {"webhook_urls": "file:///etc/passwd", "webhook_secret": "s" * 16},
    {"slack_min_severity": "urgent"},
])
def test_bad_channel_settings_fail_fast(env: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings(**env)


def test_min_severity_names() -> None:
    s = Settings(webhook_min_severity="CRITICAL", email_min_severity="warning")
    assert (s.min_severity("webhook-3"), s.min_severity("email"), s.min_severity("slack")) == ("critical", "warning", "ok")


async def test_an_idle_http_sender_keeps_its_client() -> None:
    """Building an httpx client builds an SSL context (tens of ms on the loop): one per sender, not per message."""
    sender = webhook.WebhookSender(name="webhook-1", url="http://127.0.0.1:9/h", secret="s" * 16, timeout=1)
    client = sender.client
    await sender.idle()
    assert sender.client is client
    await sender.close()
    assert client.is_closed and sender.client is not client
    await sender.close()

"""The email of one notification: subject, headers, parts (pure; no SMTP, no Redis)."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone

from notifier_service.compose import EmailComposer, own_message_id, root_message_id, subject_for


def fields(**overrides: str) -> dict[str, str]:
    base = {
        "id": "abc123", "incident_id": "12", "event": "updated", "severity": "warning",
        "title": "High 5xx rate on be_api", "summary": "line one\nline two", "report_markdown": "",
        "url": "https://copilot.example/incidents/12", "message_id": own_message_id("abc123", "12", "oncall.example"),
        "thread_root": root_message_id("12", "oncall.example"), "coalesced_count": "0",
    }
    base.update(overrides)
    return base


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_subject_format_and_header_injection() -> None:
    assert subject_for(severity="critical", incident_id="12", title="High 5xx rate on be_api", event="opened") == (
        "[CRITICAL] #12 High 5xx rate on be_api — opened"
    )
    hostile = subject_for(severity="ok", incident_id="1", title="x\r\nBcc: a@b.example\x00", event="resolved")
    assert "\n" not in hostile and "\r" not in hostile and "\x00" not in hostile
    long = subject_for(severity="ok", incident_id="1", title="y" * 1000, event="resolved")
    assert len(long) < 220 and long.endswith("… — resolved")


def test_reply_headers_thread_to_the_incident_root() -> None:
    composer = EmailComposer(sender="copilot@oncall.example", coalesce_interval=300)
    when = datetime(2026, 11, 22, 14, 0, tzinfo=timezone.utc)
    envelope = composer.compose(fields(), ["a@example.com", "b@example.com"], now=when)
    msg = parse(envelope.message)
    assert msg["Message-ID"] == "<incident-12.abc123@oncall.example>" == envelope.message_id
    assert msg["In-Reply-To"] == msg["References"] == "<incident-12@oncall.example>"
    assert msg["Date"] == "Sun, 22 Nov 2026 14:00:00 +0000"
    assert msg["To"] == "a@example.com, b@example.com"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert envelope.message.isascii()  # 7-bit clean: no 8BITMIME needed from the server


def test_root_email_has_no_parent_and_coalesced_note() -> None:
    composer = EmailComposer(sender="copilot@oncall.example", coalesce_interval=300)
    root = root_message_id("12", "oncall.example")
    msg = parse(composer.compose(fields(message_id=root, coalesced_count="2"), ["a@example.com"]).message)
    assert msg["In-Reply-To"] is None and msg["References"] is None
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "3 updates within 5 min are combined" in text

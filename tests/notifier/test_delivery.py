"""The real service (uvicorn on loopback) → real redis-server → real SMTP server (aiosmtpd)."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from notifier_service.app import create_app
from notifier_service.settings import Settings
from tests.notifier.conftest import AUTH, SmtpSink, fast_settings, notify_body, wait_until
from tests.support.net import free_port
from tests.support.servers import serve_app

pytestmark = pytest.mark.real


@contextmanager
def running(settings: Settings) -> Iterator[httpx.Client]:
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
        yield client


def status_of(client: httpx.Client, ident: str) -> dict:
    response = client.get(f"/notifications/{ident}")
    assert response.status_code == 200, response.text
    return response.json()


def metric(client: httpx.Client, name: str) -> float:
    text = client.get("/prometheus/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " ") or line.startswith(name + "{"))


def test_email_content_headers_and_threading(redis_url: str, smtp_sink: SmtpSink) -> None:
    report = (
        "## Findings\n\n| specialist | severity | summary |\n|---|---|---|\n"
        "| latency | warning | p95 1.8 s on be_api |\n| errors | critical | 23% 5xx from app2 |\n\n"
        "## Recommendations\n\n1. Drain app2 from be_api\n2. Check the deploy at 14:02\n"
    )
    with running(fast_settings(redis_url, smtp_sink.port)) as client:
        opened = client.post("/notify", json=notify_body(report_markdown=report))
        assert opened.status_code == 202 and opened.json()["status"] == "queued"
        wait_until(lambda: status_of(client, opened.json()["id"])["status"] == "sent")
        resolved = client.post("/notify", json=notify_body(idempotency_key="k-resolved", event="resolved", severity="ok"))
        wait_until(lambda: status_of(client, resolved.json()["id"])["status"] == "sent")
        sent = status_of(client, opened.json()["id"])
        assert sent["attempts"] == 1 and sent["sent_at"] is not None and sent["last_error"] is None

    first, second = smtp_sink.messages()
    msg = first.message
    assert msg["Subject"] == "[CRITICAL] #12 High 5xx rate on be_api — opened"
    assert first.sender == "copilot@oncall.example" and first.recipients == ["oncall@example.com"]
    assert msg["Message-ID"] == "<incident-12@oncall.example>" and msg["In-Reply-To"] is None
    assert msg["Date"] and msg["Auto-Submitted"] == "auto-generated"
    reply = second.message
    assert reply["Subject"] == "[OK] #12 High 5xx rate on be_api — resolved"
    assert reply["In-Reply-To"] == "<incident-12@oncall.example>" == reply["References"]
    assert reply["Message-ID"] != msg["Message-ID"]

    text, html = first.part("plain"), first.part("html")
    assert "23% over the last 5 minutes" in text and "Drain app2 from be_api" in text
    assert "* errors\n    severity: critical\n    summary: 23% 5xx from app2" in text
    assert "https://copilot.example/incidents/12" in text
    assert 'href="https://copilot.example/incidents/12"' in html
    assert "<ol>" in html and "<li>Check the deploy at 14:02</li>" in html
    assert html.count("border-radius:6px;padding:8px 10px") == 2  # one card per finding row
    assert 'name="viewport"' in html


def test_hostile_incident_text_is_escaped(redis_url: str, smtp_sink: SmtpSink) -> None:
    hostile = notify_body(
        title='be_api"><script>alert(1)</script>\r\nBcc: victim@evil.example',
        summary="<img src=x onerror=alert(2)> & <b>bold</b>",
        report_markdown=(
            "<script>alert(3)</script>\n\n[click](javascript:alert(4)) ![pixel](https://evil.example/t.gif)\n\n"
            "| host | note |\n|---|---|\n| <iframe src=//evil> | <a href='x'>y</a> |\n"
        ),
    )
    with running(fast_settings(redis_url, smtp_sink.port)) as client:
        ident = client.post("/notify", json=hostile).json()["id"]
        wait_until(lambda: status_of(client, ident)["status"] == "sent")
    (got,) = smtp_sink.messages()
    html = got.part("html")
    for raw in ("<script", "<img", "<iframe", "<a href='x'", 'href="javascript', "<b>bold"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "[click](javascript:alert(4))" in html  # left as inert text, not a link
    msg = got.message
    assert msg["Bcc"] is None and got.recipients == ["oncall@example.com"]
    assert "\n" not in msg["Subject"] and "Bcc: victim@evil.example" in msg["Subject"]


def test_smtp_down_then_back_delivers_exactly_once(redis_url: str) -> None:
    port = free_port()
    settings = fast_settings(redis_url, port, max_attempts=50, backoff_max_seconds=0.3)
    sink = SmtpSink(port)
    try:
        with running(settings) as client:
            ident = client.post("/notify", json=notify_body()).json()["id"]
            state = wait_until(lambda: (s := status_of(client, ident))["attempts"] >= 3 and s)
            assert state["status"] in ("queued", "sending") and "connecting to 127.0.0.1" in state["last_error"]
            assert metric(client, "oncall_notifications_retried_total") >= 2
            wait_until(lambda: metric(client, "oncall_notification_queue_depth") == 1)
            sink.start()
            wait_until(lambda: status_of(client, ident)["status"] == "sent")
            wait_until(lambda: metric(client, "oncall_notifications_sent_total") == 1)
            assert metric(client, "oncall_notification_delivery_seconds_count") == 1
            wait_until(lambda: metric(client, "oncall_notification_queue_depth") == 0)
        assert len(sink.messages()) == 1
        assert sink.handler.data_seen == 1
    finally:
        sink.stop()


def test_smtp_rejection_fails_with_reason_and_can_be_resent(redis_url: str, smtp_sink: SmtpSink) -> None:
    smtp_sink.handler.mode = "reject"
    with running(fast_settings(redis_url, smtp_sink.port)) as client:
        ident = client.post("/notify", json=notify_body()).json()["id"]
        failed = wait_until(lambda: (s := status_of(client, ident))["status"] == "failed" and s)
        assert failed["attempts"] == 1  # a 5xx is permanent: no retries
        assert failed["last_error"] == "550 5.7.1 Message rejected by policy"
        dead = client.get("/notifications", params={"status": "failed"}).json()
        assert [n["id"] for n in dead["notifications"]] == [ident]
        assert metric(client, "oncall_notifications_failed_total") == 1

        assert client.post(f"/notifications/{ident}/retry").status_code == 202
        smtp_sink.handler.mode = "accept"
        wait_until(lambda: status_of(client, ident)["status"] == "sent")
        assert client.post(f"/notifications/{ident}/retry").status_code == 409
        assert client.get("/notifications", params={"status": "failed"}).json()["count"] == 0
    assert len(smtp_sink.messages()) == 1


def test_temporary_failures_give_up_after_max_attempts(redis_url: str, smtp_sink: SmtpSink) -> None:
    smtp_sink.handler.mode = "tempfail"
    with running(fast_settings(redis_url, smtp_sink.port, max_attempts=3)) as client:
        ident = client.post("/notify", json=notify_body()).json()["id"]
        failed = wait_until(lambda: (s := status_of(client, ident))["status"] == "failed" and s)
        assert failed["attempts"] == 3 and failed["last_error"].startswith("451")
        assert metric(client, "oncall_notifications_retried_total") == 2
    assert smtp_sink.handler.data_seen == 3 and smtp_sink.messages() == []


def test_idempotency_key_returns_first_id_and_sends_once(redis_url: str, smtp_sink: SmtpSink) -> None:
    with running(fast_settings(redis_url, smtp_sink.port)) as client:
        first = client.post("/notify", json=notify_body())
        again = client.post("/notify", json=notify_body(title="a different title"))
        assert first.status_code == 202 and again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        by_header = client.post("/notify", json=notify_body(idempotency_key=None), headers={"Idempotency-Key": "hdr-1"})
        by_header_again = client.post("/notify", json=notify_body(idempotency_key=None), headers={"Idempotency-Key": "hdr-1"})
        assert by_header_again.status_code == 200 and by_header_again.json()["id"] == by_header.json()["id"]
        wait_until(lambda: len(smtp_sink.messages()) == 2)
        wait_until(lambda: status_of(client, by_header.json()["id"])["status"] == "sent")
    assert len(smtp_sink.messages()) == 2


def test_concurrent_duplicates_make_one_email(redis_url: str, smtp_sink: SmtpSink) -> None:
    with running(fast_settings(redis_url, smtp_sink.port)) as client:
        body = notify_body(idempotency_key="storm-key")
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            responses = list(pool.map(lambda _: client.post("/notify", json=body), range(40)))
        ids = {r.json()["id"] for r in responses}
        codes = sorted(r.status_code for r in responses)
        assert len(ids) == 1 and codes.count(202) == 1 and codes.count(200) == 39
        wait_until(lambda: status_of(client, ids.pop())["status"] == "sent")
        assert metric(client, "oncall_notifications_queued_total") == 1
    assert len(smtp_sink.messages()) == 1


def test_updates_are_coalesced_and_status_changes_are_not_delayed(redis_url: str, smtp_sink: SmtpSink) -> None:
    with running(fast_settings(redis_url, smtp_sink.port, coalesce_interval_seconds=1.5)) as client:
        def send(key: str, **kw: object) -> str:
            response = client.post("/notify", json=notify_body(idempotency_key=key, **kw))
            assert response.status_code == 202, response.text
            return response.json()["id"]

        first = send("u1", event="report", report_markdown="first analysis")
        wait_until(lambda: len(smtp_sink.messages()) == 1)  # the first update is not held
        held = send("u2", event="updated", summary="second")
        merged = send("u3", event="updated", summary="third and latest", to=["lead@example.com"])
        assert status_of(client, held)["status"] == "queued" and status_of(client, held)["next_attempt_at"]
        view = status_of(client, merged)
        assert view["coalesced_into"] == held and view["status"] == "queued"
        wait_until(lambda: len(smtp_sink.messages()) == 2, timeout=5)
        assert status_of(client, merged)["status"] == "sent"
        assert metric(client, "oncall_notifications_coalesced_total") == 1
        listed = {n["id"]: n for n in client.get("/notifications").json()["notifications"]}
        assert listed[merged]["status"] == "sent" and listed[merged]["coalesced_into"] == held
        assert [n["id"] for n in client.get("/notifications", params={"status": "sent", "limit": 2}).json()["notifications"]] == [held, first]

        # A held update goes out at once with a status change; the status change is never held.
        send("u4", event="updated", summary="fourth")
        mitigated = send("m1", event="mitigated", severity="warning")
        wait_until(lambda: len(smtp_sink.messages()) == 4, timeout=1.0)
        assert status_of(client, mitigated)["status"] == "sent" and status_of(client, first)["status"] == "sent"

    messages = smtp_sink.messages()
    combined = messages[1]
    assert "third and latest" in combined.part("plain") and "second" not in combined.part("plain")
    assert "2 updates within" in combined.part("plain")
    assert sorted(combined.recipients) == ["lead@example.com", "oncall@example.com"]
    assert {m.message["X-Oncall-Event"] for m in messages[2:]} == {"updated", "mitigated"}


def test_recipients_by_severity(redis_url: str, smtp_sink: SmtpSink) -> None:
    settings = fast_settings(
        redis_url, smtp_sink.port, email_to_critical="pager@example.com, lead@example.com",
        email_to_warning="team@example.com",
    )
    with running(settings) as client:
        client.post("/notify", json=notify_body(idempotency_key="c", incident_id=1))
        client.post("/notify", json=notify_body(idempotency_key="w", incident_id=2, severity="warning", to=["x@example.com"]))
        client.post("/notify", json=notify_body(idempotency_key="o", incident_id=3, severity="ok"))
        wait_until(lambda: len(smtp_sink.messages()) == 3)
    by_incident = {m.message["X-Oncall-Incident"]: sorted(m.recipients) for m in smtp_sink.messages()}
    assert by_incident == {
        "1": ["lead@example.com", "pager@example.com"],
        "2": ["team@example.com", "x@example.com"],
        "3": ["oncall@example.com"],
    }


def test_auth_and_validation(redis_url: str, smtp_sink: SmtpSink) -> None:
    with running(fast_settings(redis_url, smtp_sink.port)) as client:
        assert client.post("/notify", json=notify_body(), headers={"Authorization": ""}).status_code == 401
        assert client.post("/notify", json=notify_body(), headers={"Authorization": "Bearer nope"}).status_code == 403
        assert client.get("/notifications", headers={"Authorization": "Bearer nope"}).status_code == 403
        bad = {
            "event": notify_body(event="exploded"),
            "severity": notify_body(severity="apocalyptic"),
            "url": notify_body(url="javascript:alert(1)"),
            "to": notify_body(to=["not an address"]),
            "to type": notify_body(to=True),
            "to items": notify_body(to=[1, 2]),
            "incident_id": notify_body(incident_id="12\r\nX-Evil: 1"),
            "title": notify_body(title=""),
            "extra": {**notify_body(), "cc": "x@example.com"},
        }
        for name, body in bad.items():
            response = client.post("/notify", json=body)
            assert response.status_code == 422, (name, response.text)
        assert client.post("/notify", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422
        assert client.get("/notifications", params={"status": "lost"}).status_code == 422
        spaced = client.post("/notify", json=notify_body(idempotency_key=None), headers={"Idempotency-Key": "has space"})
        assert spaced.status_code == 422 and "Idempotency-Key" in spaced.text
        assert client.get("/notifications/0123abcd").status_code == 404
        assert client.get("/notifications/../../etc").status_code == 404
        assert client.post("/notifications/0123abcd/retry").status_code == 404
    assert smtp_sink.messages() == []


def test_redis_outage_answers_503_and_the_worker_resumes(smtp_sink: SmtpSink, fresh_redis) -> None:
    with running(fast_settings(fresh_redis.url, smtp_sink.port)) as client:
        fresh_redis.kill()
        response = client.post("/notify", json=notify_body())
        assert response.status_code == 503 and response.headers["Retry-After"]
        time.sleep(0.5)  # the worker meets the outage many times (it once leaked a sender slot each time)
        fresh_redis.start()  # same port, empty (the test server keeps nothing on disk)
        wait_until(lambda: client.post("/notify", json=notify_body()).status_code == 202)
        wait_until(lambda: len(smtp_sink.messages()) == 1)

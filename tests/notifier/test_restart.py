"""Restarts in the middle of the queue: graceful (two app instances in turn) and SIGKILL."""

from __future__ import annotations

import httpx
import pytest

from notifier_service.app import create_app
from tests.notifier.conftest import AUTH, SmtpSink, fast_settings, notify_body, wait_until
from tests.notifier.test_delivery import running, status_of
from tests.support.net import free_port
from tests.support.servers import ServiceProcess, serve_app

pytestmark = pytest.mark.real


def test_queue_survives_a_restart_while_smtp_is_down(redis_url: str) -> None:
    port = free_port()
    sink = SmtpSink(port)
    settings = fast_settings(redis_url, port, max_attempts=100, backoff_max_seconds=0.2)
    try:
        with running(settings) as client:
            ids = [client.post("/notify", json=notify_body(idempotency_key=f"k{i}", incident_id=i)).json()["id"] for i in range(20)]
            wait_until(lambda: all(status_of(client, i)["attempts"] >= 1 for i in ids))
        sink.start()
        with running(settings) as client:
            wait_until(lambda: all(status_of(client, i)["status"] == "sent" for i in ids))
        got = sorted(int(m.message["X-Oncall-Incident"]) for m in sink.messages())
        assert got == list(range(20))
    finally:
        sink.stop()


def test_graceful_stop_mid_transaction_hands_notifications_back(redis_url: str, smtp_sink: SmtpSink) -> None:
    smtp_sink.handler.mode = "hang_rcpt"
    settings = fast_settings(redis_url, smtp_sink.port, shutdown_grace_seconds=0.3)
    with running(settings) as client:
        ids = [client.post("/notify", json=notify_body(idempotency_key=f"g{i}", incident_id=i)).json()["id"] for i in range(3)]
        wait_until(lambda: all(status_of(client, i)["status"] == "sending" for i in ids))
    smtp_sink.handler.mode = "accept"
    with running(settings) as client:
        # handed back at shutdown, so no lease has to expire first
        assert all(status_of(client, i)["status"] in ("queued", "sending", "sent") for i in ids)
        wait_until(lambda: all(status_of(client, i)["status"] == "sent" for i in ids), timeout=3)
        views = [status_of(client, i) for i in ids]
        assert all(v["attempts"] == 1 for v in views), views  # the interrupted try is not counted
    assert len(smtp_sink.messages()) == 3


def _service(redis_url: str, smtp_port: int, **extra: str) -> ServiceProcess:
    env = {
        "REDIS_URL": redis_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_TLS": "none",
        "EMAIL_FROM": "copilot@oncall.example",
        "EMAIL_TO": "oncall@example.com, second@example.com",
        "NOTIFIER_TOKEN": AUTH["Authorization"].split()[1],
        "POLL_INTERVAL_SECONDS": "0.05",
        "SMTP_SEND_TIMEOUT_SECONDS": "2",
        "LEASE_MARGIN_SECONDS": "0.5",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    return ServiceProcess("notifier-service", env)


def _get(url: str, ident: str) -> dict:
    return httpx.get(f"{url}/notifications/{ident}", headers=AUTH, timeout=5).json()


@pytest.mark.slow
def test_killed_before_data_is_sent_again_once(redis_url: str, smtp_sink: SmtpSink) -> None:
    smtp_sink.handler.mode = "hang_rcpt"
    service = _service(redis_url, smtp_sink.port).start(ready_path="/health/ready")
    try:
        ids = [
            httpx.post(f"{service.url}/notify", json=notify_body(idempotency_key=f"c{i}", incident_id=i), headers=AUTH).json()["id"]
            for i in range(3)
        ]
        wait_until(lambda: all(_get(service.url, i)["status"] == "sending" for i in ids))
        service.stop(kill=True)
        smtp_sink.handler.mode = "accept"
        service.start(ready_path="/health/ready")
        wait_until(lambda: all(_get(service.url, i)["status"] == "sent" for i in ids), timeout=15)
    finally:
        service.stop()
    got = sorted(int(m.message["X-Oncall-Incident"]) for m in smtp_sink.messages())
    assert got == [0, 1, 2]
    assert all(m.recipients == ["oncall@example.com", "second@example.com"] for m in smtp_sink.messages())


@pytest.mark.slow
@pytest.mark.parametrize("resend", [False, True])
def test_killed_during_data_is_never_silently_sent_twice(redis_url: str, smtp_sink: SmtpSink, resend: bool) -> None:
    smtp_sink.handler.mode = "hang_data"
    service = _service(redis_url, smtp_sink.port, RESEND_UNCERTAIN=str(resend).lower()).start(ready_path="/health/ready")
    try:
        ident = httpx.post(f"{service.url}/notify", json=notify_body(), headers=AUTH).json()["id"]
        wait_until(lambda: smtp_sink.handler.data_seen == 1)
        service.stop(kill=True)
        smtp_sink.handler.mode = "accept"
        service.start(ready_path="/health/ready")
        if resend:
            view = wait_until(lambda: (v := _get(service.url, ident))["status"] == "sent" and v, timeout=15)
            assert smtp_sink.handler.data_seen == 2 and view["attempts"] == 2
        else:
            view = wait_until(lambda: (v := _get(service.url, ident))["status"] == "failed" and v, timeout=15)
            assert "may have accepted it" in view["last_error"]
            dead = httpx.get(f"{service.url}/notifications?status=failed", headers=AUTH).json()
            assert [n["id"] for n in dead["notifications"]] == [ident]
            assert smtp_sink.handler.data_seen == 1
    finally:
        service.stop()


def test_second_instance_shares_the_queue_without_double_sends(redis_url: str, smtp_sink: SmtpSink) -> None:
    settings = fast_settings(redis_url, smtp_sink.port)
    with running(settings) as client, serve_app(create_app(settings)):
        ids = [client.post("/notify", json=notify_body(idempotency_key=f"s{i}", incident_id=i)).json()["id"] for i in range(60)]
        wait_until(lambda: len(smtp_sink.messages()) >= 60)
        wait_until(lambda: all(status_of(client, i)["status"] == "sent" for i in ids))
    got = sorted(int(m.message["X-Oncall-Incident"]) for m in smtp_sink.messages())
    assert got == list(range(60))

"""The agent → notifier → SMTP chain with a part down and back, all real processes (agent-service,
notifier-service, aiosmtpd): the on-call engineer gets each email exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.hardening.procs import alert_payload, processes, wait_json
from tests.notifier.conftest import SmtpSink
from tests.support.net import free_port
from tests.support.servers import ServiceProcess

pytestmark = [pytest.mark.real, pytest.mark.slow]

TOKEN = "chain-notifier-token"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    smtp = SmtpSink().start()
    try:
        yield smtp
    finally:
        smtp.stop()


def _notifier_env(redis_url: str, smtp_port: int) -> dict[str, str]:
    return {"LOG_LEVEL": "INFO", "REDIS_URL": redis_url, "REDIS_PREFIX": "chain:", "NOTIFIER_TOKEN": TOKEN,
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "EMAIL_TO": "oncall@example.com",
            "POLL_INTERVAL_SECONDS": "0.05", "BACKOFF_BASE_SECONDS": "0.2", "BACKOFF_MAX_SECONDS": "0.5",
            "COALESCE_INTERVAL_SECONDS": "0", "SMTP_TIMEOUT_SECONDS": "2", "MAX_ATTEMPTS": "50"}


def _agent_env(redis_url: str, notifier_port: int) -> dict[str, str]:
    return {"REDIS_URL": redis_url, "LLM_ENGINE": "rules", "INGESTION_URL": "http://127.0.0.1:9",
            "NOTIFIER_URL": f"http://127.0.0.1:{notifier_port}", "NOTIFIER_TOKEN": TOKEN,
            "NOTIFIER_TIMEOUT_S": "1", "ALERT_CLAIM_IDLE_S": "0.5"}


def _wait_mails(sink: SmtpSink, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(sink.messages()) < count:
        time.sleep(0.1)
    time.sleep(1.5)  # a duplicate would show now
    return len(sink.messages())


def test_smtp_down_while_the_chain_runs_then_back_each_mail_once(redis_url: str, sink: SmtpSink) -> None:
    with processes() as start:
        notifier_port = free_port()
        notifier = ServiceProcess("notifier-service", _notifier_env(redis_url, sink.port), port=notifier_port)
        try:
            notifier.start(ready_path="/health/ready")
            agent = start("agent-service", _agent_env(redis_url, notifier_port))
            sink.stop()  # SMTP down before the incident exists
            assert httpx.post(agent.url + "/alerts", json=alert_payload("BackendDown", backend="be_pay"),
                              timeout=10).status_code == 202
            incident = wait_json(agent.url + "/incidents/1", lambda i: not i["pending"], timeout=30)
            events = [e["kind"] for e in incident["timeline"]]  # type: ignore[index]
            assert "notification_sent" in events, events  # the notifier took it (queued), SMTP is its problem
            resolved = alert_payload("BackendDown", backend="be_pay", status="resolved")
            assert httpx.post(agent.url + "/alerts", json=resolved, timeout=10).status_code == 202
            wait_json(agent.url + "/incidents/1", lambda i: i["status"] == "MITIGATED" and not i["pending"],  # type: ignore[index]
                      timeout=30)
            time.sleep(1.0)
            assert sink.messages() == []
            sink.start()  # SMTP back on the same port
            received = _wait_mails(sink, 2, timeout=30)
        finally:
            notifier.stop()
    subjects = [m.message["Subject"] for m in sink.messages()]
    assert received == 2 and len(set(subjects)) == 2, subjects


def test_notifier_down_when_the_incident_opens_then_up_the_mail_still_goes(redis_url: str, sink: SmtpSink) -> None:
    """Formerly lost (3 quick tries, then `notification_failed` and the action dropped): the
    notification now stays pending and is retried with backoff until the notifier is back."""
    notifier_port = free_port()
    with processes() as start:
        # default first retry after 5 s, capped at 5 s here so that a slow notifier start-up
        # does not push the next try past the wait below
        agent = start("agent-service", {**_agent_env(redis_url, notifier_port), "NOTIFY_RETRY_MAX_S": "5"})
        assert httpx.post(agent.url + "/alerts", json=alert_payload("BackendDown", backend="be_pay"),
                          timeout=10).status_code == 202
        down = wait_json(agent.url + "/incidents/1",  # tried, notifier down: kept to be retried
                         lambda i: any(e["kind"] == "notification_retrying" for e in i["timeline"]),  # type: ignore[index]
                         timeout=30)
        assert any(p["event"] == "opened" for p in down["pending"]), down  # type: ignore[index]
        assert sink.messages() == []
        notifier = ServiceProcess("notifier-service", _notifier_env(redis_url, sink.port), port=notifier_port)
        try:
            notifier.start(ready_path="/health/ready")
            received = _wait_mails(sink, 1, timeout=20)
            incident = wait_json(agent.url + "/incidents/1", lambda i: not i["pending"], timeout=10)
        finally:
            notifier.stop()
    assert received == 1
    kinds = [e["kind"] for e in incident["timeline"]]  # type: ignore[index]
    assert kinds.count("notification_retrying") == 1 and "notification_failed" not in kinds, kinds
    assert "notification_sent" in kinds, kinds

"""Escalation through the real services: agent-service and notifier-service as processes, a real
redis-server and the SMTP sink. A critical alert nobody acknowledges is paged again: the
escalation email reaches the ESCALATION_TO address (the notifier adds it to the routed
recipients), and the incident records the step. Then the agent is restarted and acknowledged:
no further step is claimed."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from scripts.local_stack import SmtpSink, wait_until
from tests.e2e.harness import Service, start_service
from tests.support.binaries import require_binary
from tests.support.redis_proc import RedisProcess

pytestmark = [pytest.mark.real, pytest.mark.slow]


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[dict[str, Any]]:
    redis_proc = RedisProcess(require_binary("redis-server")).start()
    sink = SmtpSink().start()
    started: list[Service] = []
    try:
        notifier = start_service("notifier-service", tmp_path, {
            "REDIS_URL": redis_proc.url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port),
            "EMAIL_TO": "oncall@example.com"}, ready_path="/health/ready")
        started.append(notifier)
        env = {"REDIS_URL": redis_proc.url, "INGESTION_URL": "http://127.0.0.1:9", "NOTIFIER_URL": notifier.url,
               "LLM_ENGINE": "rules", "ESCALATE_AFTER_S": "1", "ESCALATION_TO": "lead@example.com;head@example.com",
               "INCIDENT_ANALYSIS_TIMEOUT_S": "5"}
        agent = start_service("agent-service", tmp_path, env, ready_path="/health/ready")
        started.append(agent)
        yield {"agent": agent, "sink": sink, "redis": redis_proc, "env": env, "tmp": tmp_path, "started": started}
    finally:
        for service in reversed(started):
            service.proc.stop()
        sink.stop()
        redis_proc.stop()


def _critical_alert(shared_fixtures: Path) -> dict[str, Any]:
    body = copy.deepcopy(json.loads((shared_fixtures / "alertmanager" / "firing-single.json").read_text())["body"])
    body["commonLabels"]["severity"] = "critical"
    for alert in body["alerts"]:
        alert["labels"]["severity"] = "critical"
    return body


def test_an_unacknowledged_critical_incident_pages_the_escalation_address(chain, shared_fixtures) -> None:
    agent, sink = chain["agent"], chain["sink"]
    accepted = httpx.post(f"{agent.url}/alerts", json=_critical_alert(shared_fixtures), timeout=10)
    incident_id = accepted.json()["incident_ids"][0]

    def escalation_mail() -> Any:
        return next((m for m in sink.received() if "lead@example.com" in m.rcpt_tos), None)

    mail = wait_until(escalation_mail, timeout=60, what="the escalation email",
                      details=lambda: agent.proc.logs()[-3000:])
    assert "oncall@example.com" in mail.rcpt_tos  # the routed on-call is paged again too
    assert "[escalation 1] not acknowledged" in mail.subject
    incident = httpx.get(f"{agent.url}/incidents/{incident_id}", timeout=5).json()
    assert incident["escalation_step"] >= 1

    # A restart, then alice takes it: whatever step was due is the last one paged.
    agent.proc.stop()
    restarted = start_service("agent-service", chain["tmp"], chain["env"], ready_path="/health/ready")
    chain["started"].append(restarted)
    acked = httpx.post(f"{restarted.url}/incidents/{incident_id}/ack", json={"by": "alice"}, timeout=10).json()
    assert acked["acknowledged_by"] == "alice"
    due = redis.Redis.from_url(chain["redis"].url).zscore("incidents:escalation_due", str(incident_id))
    assert due is None
    steps = [e["data"]["step"] for e in acked["timeline"] if e["kind"] == "escalated"]
    assert steps == list(range(1, len(steps) + 1))  # each step once, in order, none lost to the restart

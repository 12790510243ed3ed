"""monitoring/alertmanager.yml in the real Alertmanager (Debian binary) on loopback: the Watchdog
reaches the agent's webhook on its own route, and the inhibit rule silences only warnings of the
backend a critical alert is about."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from tests.e2e.harness import Alertmanager, start_alertmanager, wait_until
from tests.support.net import free_port
from tests.support.servers import serve_app

pytestmark = pytest.mark.real
TOKEN = "am-config-token"


class Webhook:
    """Stands in for the agent's POST /alerts: keeps every delivery with its Authorization header."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, dict[str, Any]]] = []
        self.app = FastAPI()

        @self.app.post("/alerts")
        async def alerts(request: Request) -> dict[str, bool]:
            self.deliveries.append((request.headers.get("authorization", ""), await request.json()))
            return {"ok": True}


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[tuple[Alertmanager, Webhook]]:
    webhook = Webhook()
    # smtp_port: nothing listens there; the copilot-email receiver's failures are only logged
    with serve_app(webhook.app) as url:
        am = start_alertmanager(tmp_path / "am", agent_url=url, token=TOKEN, smtp_port=free_port())
        try:
            yield am, webhook
        finally:
            am.proc.stop()


def _post(am: Alertmanager, *label_sets: dict[str, str]) -> None:
    now = datetime.now(UTC).isoformat()
    body = [{"labels": labels, "annotations": {"summary": labels["alertname"]}, "startsAt": now}
            for labels in label_sets]
    httpx.post(f"{am.url}/api/v2/alerts", json=body, timeout=5).raise_for_status()


def _states(am: Alertmanager) -> dict[str, str]:
    alerts = httpx.get(f"{am.url}/api/v2/alerts", timeout=5).json()
    return {a["labels"]["alertname"]: a["status"]["state"] for a in alerts}


def test_watchdog_reaches_the_agent_webhook_on_its_own_route(alertmanager: tuple[Alertmanager, Webhook]) -> None:
    am, webhook = alertmanager
    _post(am, {"alertname": "Watchdog", "severity": "none"})

    def watchdog() -> dict[str, Any] | None:
        found = [(auth, body) for auth, body in webhook.deliveries if body["groupLabels"] == {"alertname": "Watchdog"}]
        return {"auth": found[0][0], "body": found[0][1]} if found else None

    got = wait_until(watchdog, timeout=20, what="the Watchdog delivery", details=am.proc.logs)
    assert got["auth"] == f"Bearer {TOKEN}"
    body = got["body"]
    assert body["receiver"] == "oncall-agent" and body["status"] == "firing"
    assert [alert["labels"] for alert in body["alerts"]] == [{"alertname": "Watchdog", "severity": "none"}]
    assert body["groupKey"] == '{}/{alertname="Watchdog"}:{alertname="Watchdog"}'  # its route, not the default


def test_critical_alert_inhibits_warnings_of_its_backend_only(alertmanager: tuple[Alertmanager, Webhook]) -> None:
    am, _ = alertmanager
    _post(am,
          {"alertname": "High5xxRate", "severity": "critical", "backend": "be_x"},
          {"alertname": "CopilotServiceDown", "severity": "critical", "component": "copilot", "job": "oncall-agent"},
          {"alertname": "ServerHigh5xxRate", "severity": "warning", "backend": "be_x", "server": "s1"},
          {"alertname": "HighP99Latency", "severity": "warning", "backend": "be_y"},
          {"alertname": "IngestionLagHigh", "severity": "warning", "component": "copilot"})
    states = wait_until(lambda: (s := _states(am)) and s.get("ServerHigh5xxRate") == "suppressed" and len(s) == 5 and s,
                        timeout=20, what="ServerHigh5xxRate inhibited", details=am.proc.logs)
    # a critical copilot alert has no backend: it must not silence the copilot's warnings
    assert states == {"High5xxRate": "active", "CopilotServiceDown": "active", "ServerHigh5xxRate": "suppressed",
                      "HighP99Latency": "active", "IngestionLagHigh": "active"}

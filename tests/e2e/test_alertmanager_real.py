"""Real Prometheus and Alertmanager (Debian binaries) on loopback posting to the real
agent-service process: a rule on a metric this test controls fires; exactly one incident and one
notification appear; the metric clears and the incident becomes MITIGATED."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from tests.agent.incidents.support import FakeNotifier
from scripts.local_stack import wait_until as shared_wait
from tests.e2e.harness import Proc
from tests.support.binaries import require_binary
from tests.support.net import free_port, wait_for_port
from tests.support.servers import ServiceProcess, serve_app

pytestmark = pytest.mark.real
ALERTS_TOKEN = "am-e2e-token"


class Probe:
    """A tiny /metrics endpoint: `probe_failing{backend="be_app"}` is whatever the test sets."""

    def __init__(self) -> None:
        self.value = 0
        self.app = FastAPI()

        @self.app.get("/metrics", response_class=PlainTextResponse)
        async def metrics() -> str:
            return f'# TYPE probe_failing gauge\nprobe_failing{{backend="be_app"}} {self.value}\n'


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, logs: list[Path]) -> Any:
    def tails() -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in logs if p.exists())

    return shared_wait(check, timeout=timeout, what=what, interval=0.25, details=tails)


@contextmanager
def monitoring_stack(tmp_path: Path, redis_url: str, notifier_url: str, *, notifier_token: str = "") -> Iterator[dict[str, Any]]:
    """Probe → Prometheus → Alertmanager → agent-service (real process) → the given notifier."""
    prometheus_bin = require_binary("prometheus")
    alertmanager_bin = require_binary("prometheus-alertmanager")
    probe = Probe()
    procs: list[Proc] = []
    agent: ServiceProcess | None = None
    with serve_app(probe.app) as probe_url:
        try:
            agent = ServiceProcess("agent-service", {
                "REDIS_URL": redis_url, "NOTIFIER_URL": notifier_url, "ALERTS_TOKEN": ALERTS_TOKEN,
                "NOTIFIER_TOKEN": notifier_token, "LLM_ENGINE": "rules", "INGESTION_URL": "http://127.0.0.1:9",
                "LOG_JSON": "false", "ANTHROPIC_API_KEY": "", "API_TOKEN": "",
            }).start()
            am_port, prom_port = free_port(), free_port()
            (tmp_path / "am").mkdir()
            (tmp_path / "prom").mkdir()
            (tmp_path / "alertmanager.yml").write_text(f"""
route:
  receiver: agent
  group_by: [alertname, backend]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: agent
    webhook_configs:
      - url: {agent.url}/alerts
        send_resolved: true
        http_config:
          authorization:
            credentials: {ALERTS_TOKEN}
""")
            (tmp_path / "rules.yml").write_text("""
groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: ProbeFailing
        expr: probe_failing > 0
        labels: {severity: page}
        annotations: {summary: "probe failing on {{ $labels.backend }}"}
""")
            (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{tmp_path / 'rules.yml'}]
alerting:
  alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]
scrape_configs:
  - job_name: probe
    static_configs: [{{targets: ['{probe_url.removeprefix("http://")}']}}]
""")
            procs.append(Proc("alertmanager", [alertmanager_bin, f"--config.file={tmp_path / 'alertmanager.yml'}",
                               f"--storage.path={tmp_path / 'am'}", f"--web.listen-address=127.0.0.1:{am_port}",
                               "--cluster.listen-address="], tmp_path))
            procs.append(Proc("prometheus", [prometheus_bin, f"--config.file={tmp_path / 'prometheus.yml'}",
                               f"--storage.tsdb.path={tmp_path / 'prom'}",
                               f"--web.listen-address=127.0.0.1:{prom_port}", "--rules.alert.resend-delay=1s"],
                              tmp_path))
            wait_for_port(am_port, timeout=20)
            wait_for_port(prom_port, timeout=20)
            yield {"probe": probe, "agent": agent, "logs": [p.log_path for p in procs] + [agent.log_path],
                   "alertmanager_url": f"http://127.0.0.1:{am_port}"}
        finally:
            for proc in reversed(procs):
                proc.stop()
            if agent is not None:
                agent.stop()


def _incident_in(agent: ServiceProcess, status: str) -> dict[str, Any] | None:
    found = httpx.get(f"{agent.url}/incidents", timeout=5).json()["incidents"]
    if len(found) != 1:
        return None
    detail = httpx.get(f"{agent.url}/incidents/{found[0]['id']}", timeout=5).json()
    return detail if detail["status"] == status and not detail["pending"] else None


def test_real_alertmanager_fires_then_resolves(tmp_path: Path, redis_url: str) -> None:
    notifier = FakeNotifier()
    with serve_app(notifier.app) as notifier_url, monitoring_stack(tmp_path, redis_url, notifier_url) as stack:
        probe, agent, logs = stack["probe"], stack["agent"], stack["logs"]
        probe.value = 1
        opened = wait_until(lambda: _incident_in(agent, "INVESTIGATING"), timeout=25, what="an INVESTIGATING incident",
                            logs=logs)
        assert opened["source"] == "alertmanager"
        assert opened["scope"]["backend"] == "be_app"
        assert opened["severity"] == "critical"
        assert opened["reports"], "the analysis report is attached"
        wait_until(lambda: [c for c in notifier.calls if c["event"] == "opened"], timeout=10, what="opened", logs=logs)

        probe.value = 0
        mitigated = wait_until(lambda: _incident_in(agent, "MITIGATED"), timeout=25, what="a MITIGATED incident",
                               logs=logs)
        assert [a["status"] for a in mitigated["alerts"]] == ["resolved"]
        assert len(httpx.get(f"{agent.url}/incidents", timeout=5).json()["incidents"]) == 1
        assert [c["event"] for c in notifier.sent] == ["opened", "mitigated"]
        assert all(c["incident_id"] == opened["id"] for c in notifier.calls)
        metrics = httpx.get(f"{agent.url}/prometheus/metrics", timeout=5).text
        assert 'oncall_incidents_total{source="alertmanager"} 1.0' in metrics


def test_real_alertmanager_to_real_notifier_sends_one_email_per_event(tmp_path: Path, redis_url: str) -> None:
    """The whole path with the real notifier-service and an aiosmtpd inbox."""
    from scripts.local_stack import SmtpSink

    sink = SmtpSink().start()
    notifier = ServiceProcess("notifier-service", {
        "REDIS_URL": redis_url.removesuffix("/0") + "/2", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port),
        "SMTP_TLS": "none", "EMAIL_TO": "oncall@example.test", "NOTIFIER_TOKEN": "n-e2e",
        "COALESCE_INTERVAL_SECONDS": "0", "LOG_JSON": "false"})
    try:
        notifier.start()
        with monitoring_stack(tmp_path, redis_url, notifier.url, notifier_token="n-e2e") as stack:
            probe, agent, logs = stack["probe"], stack["agent"], [*stack["logs"], notifier.log_path]
            probe.value = 1
            opened = wait_until(lambda: _incident_in(agent, "INVESTIGATING"), timeout=25, what="an incident", logs=logs)
            wait_until(lambda: len(sink.received()) >= 1, timeout=20, what="the opened email", logs=logs)
            probe.value = 0
            wait_until(lambda: _incident_in(agent, "MITIGATED"), timeout=25, what="MITIGATED", logs=logs)
            wait_until(lambda: len(sink.received()) >= 2, timeout=20, what="the mitigated email", logs=logs)
            time.sleep(2)  # anything extra (a duplicate) would arrive now
            mails = sink.received()
    finally:
        notifier.stop()
        sink.stop()
    assert len(mails) == 2, [m.subject for m in mails]
    assert all(f"#{opened['id']}" in m.subject for m in mails), [m.subject for m in mails]
    sent = [e for e in opened["timeline"] if e["kind"] == "notification_sent"]
    assert sent and sent[0]["data"]["event"] == "opened"


def _push(alertmanager_url: str, *, starts_at: str, ends_at: str) -> None:
    """An alert pushed straight into Alertmanager's API (as Prometheus or any client does)."""
    alert = {"labels": {"alertname": "PushedAlert", "backend": "be_push", "severity": "page"},
             "annotations": {"summary": "pushed"}, "startsAt": starts_at, "endsAt": ends_at}
    response = httpx.post(f"{alertmanager_url}/api/v2/alerts", json=[alert], timeout=5)
    assert response.status_code == 200, response.text


def test_real_alertmanager_refiring_with_the_same_starts_at_pages_again(tmp_path: Path, redis_url: str) -> None:
    """Fires, resolves, fires again with the same startsAt (a flapping alert, a lifted silence):
    Alertmanager delivers firing → resolved → firing; the incident reopens and the page goes out."""
    from datetime import UTC, datetime, timedelta

    def iso(moment: datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    notifier = FakeNotifier()
    with serve_app(notifier.app) as notifier_url, monitoring_stack(tmp_path, redis_url, notifier_url) as stack:
        agent, logs, am = stack["agent"], stack["logs"], stack["alertmanager_url"]
        starts = datetime.now(UTC) - timedelta(minutes=2)
        _push(am, starts_at=iso(starts), ends_at=iso(datetime.now(UTC) + timedelta(minutes=10)))
        wait_until(lambda: _incident_in(agent, "INVESTIGATING"), timeout=25, what="INVESTIGATING", logs=logs)
        _push(am, starts_at=iso(starts), ends_at=iso(datetime.now(UTC)))
        wait_until(lambda: _incident_in(agent, "MITIGATED"), timeout=25, what="MITIGATED", logs=logs)
        _push(am, starts_at=iso(starts), ends_at=iso(datetime.now(UTC) + timedelta(minutes=10)))
        reopened = wait_until(lambda: _incident_in(agent, "INVESTIGATING"), timeout=25, what="reopened", logs=logs)
        wait_until(lambda: len(notifier.calls) >= 3, timeout=10, what="the third notification", logs=logs)
    assert any(e["kind"] == "reopened" for e in reopened["timeline"])
    assert [c["event"] for c in notifier.calls] == ["opened", "mitigated", "updated"]
    assert [a["starts_at"][:19] for a in reopened["alerts"]] == [iso(starts)[:19]]

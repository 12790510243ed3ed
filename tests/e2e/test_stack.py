"""The whole chain on loopback, every part real:

loadgen → HAProxy (option httplog, log 127.0.0.1:PORT local0) → demo backend
HAProxy → syslog UDP → ingestion-service → Redis
Prometheus scrapes ingestion, evaluates the project's golden-signal rules (a test copy with short
windows and `for:`: see harness.fast_golden_signal_rules) → Alertmanager (the project's
alertmanager.yml, loopback URLs, 1 s group timers, bearer token from a credentials file)
→ POST /alerts on agent-service (rules engine) → incident + report → notifier-service → SMTP sink.

The backend starts failing → one incident, one email naming the backend; it recovers → the
incident is MITIGATED and a second email says so. The time from the first failing request to
the email is printed (docs/benchmarks.md, `## stack`), never asserted."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import (
    Alertmanager,
    DemoBackend,
    HAProxy,
    Mail,
    Prometheus,
    Proc,
    Service,
    SmtpSink,
    fast_golden_signal_rules,
    start_alertmanager,
    start_demo_backend,
    start_haproxy,
    start_loadgen,
    start_prometheus,
    start_service,
    wait_until,
)
from tests.support.binaries import require_binary
from tests.support.net import free_udp_port
from tests.support.redis_proc import RedisProcess

pytestmark = [pytest.mark.real, pytest.mark.slow]

FAILING = "be_checkout"
HEALTHY = "be_catalog"
PATHS = ["/checkout/cart", "/checkout/pay", "/catalog/items", "/catalog/search"]


@dataclass
class Stack:
    backend: DemoBackend
    haproxy: HAProxy
    ingestion: Service
    agent: Service
    notifier: Service
    prometheus: Prometheus
    alertmanager: Alertmanager
    sink: SmtpSink
    loadgen: Proc
    procs: list[Any]

    def incidents(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.agent.url}/incidents", params={"limit": 50}, timeout=5)
        response.raise_for_status()
        return response.json()["incidents"]

    def incident(self, incident_id: int) -> dict[str, Any]:
        return httpx.get(f"{self.agent.url}/incidents/{incident_id}", timeout=5).json()

    def diagnostics(self) -> str:
        parts = [f"--- {proc.name}\n{proc.logs()[-2500:]}" for proc in self.procs if isinstance(proc, Proc)]
        parts += [f"--- {svc.proc.name}\n{svc.proc.logs()[-2500:]}" for svc in self.procs if isinstance(svc, Service)]
        try:
            parts.append(f"--- prometheus alerts\n{self.prometheus.alerts()}")
        except httpx.HTTPError as exc:
            parts.append(f"prometheus unreachable: {exc}")
        return "\n".join(parts)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    for binary in ("redis-server", "haproxy", "prometheus", "prometheus-alertmanager"):
        require_binary(binary)
    token = secrets.token_urlsafe(24)
    notifier_token = secrets.token_urlsafe(24)
    started: list[Any] = []
    redis_proc = RedisProcess(require_binary("redis-server")).start()
    sink = SmtpSink().start()
    try:
        syslog_port = free_udp_port()
        ingestion = start_service("ingestion-service", tmp_path, {
            "REDIS_URL": redis_proc.url, "SYSLOG_UDP_PORT": str(syslog_port)}, ready_path="/health/ready")
        started.append(ingestion)
        notifier = start_service("notifier-service", tmp_path, {
            "REDIS_URL": redis_proc.url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port),
            "EMAIL_TO": "oncall@example.com", "NOTIFIER_TOKEN": notifier_token}, ready_path="/health/ready")
        started.append(notifier)
        agent = start_service("agent-service", tmp_path, {
            "REDIS_URL": redis_proc.url, "INGESTION_URL": ingestion.url, "NOTIFIER_URL": notifier.url,
            "NOTIFIER_TOKEN": notifier_token, "ALERTS_TOKEN": token, "LLM_ENGINE": "rules"},
            ready_path="/health/ready")
        started.append(agent)
        backend = start_demo_backend(tmp_path)
        started.append(backend.proc)
        haproxy = start_haproxy(tmp_path, backend_port=backend.port, syslog_port=syslog_port)
        started.append(haproxy.proc)
        alertmanager = start_alertmanager(tmp_path / "alertmanager", agent_url=agent.url, token=token,
                                          smtp_port=sink.port)
        started.append(alertmanager.proc)
        prometheus = start_prometheus(
            tmp_path / "prometheus", targets={"oncall-ingestion": f"127.0.0.1:{ingestion.port}"},
            rule_files=[fast_golden_signal_rules(tmp_path / "rules.yml")], alertmanager=alertmanager.address)
        started.append(prometheus.proc)
        loadgen = start_loadgen(tmp_path, url=haproxy.url, rps=20, paths=PATHS)
        started.append(loadgen)
        yield Stack(backend, haproxy, ingestion, agent, notifier, prometheus, alertmanager, sink, loadgen, started)
    finally:
        for item in reversed(started):
            (item.proc if isinstance(item, Service) else item).stop()
        sink.stop()
        redis_proc.stop()


def scraped_requests(prometheus: Prometheus, backend: str) -> float:
    result = prometheus.query(f'sum(oncall_requests_total{{backend="{backend}"}})')["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def mails_about(sink: SmtpSink, backend: str) -> list[Mail]:
    return [mail for mail in sink.received() if backend in mail.subject]


def test_failing_backend_pages_once_and_recovery_mitigates(stack: Stack) -> None:
    try:
        run_scenario(stack)
    except (AssertionError, TimeoutError):
        print(stack.diagnostics())
        raise


def run_scenario(stack: Stack) -> None:
    # 1. healthy baseline: HAProxy's syslog lines reach ingestion and Prometheus sees both backends
    wait_until(lambda: scraped_requests(stack.prometheus, FAILING) > 50 and
               scraped_requests(stack.prometheus, HEALTHY) > 50, timeout=30, what="baseline traffic in Prometheus")
    time.sleep(3)
    assert stack.prometheus.alerts() == []
    assert stack.incidents() == [] and stack.sink.received() == []

    # 2. the checkout backend starts failing: 60% of its requests get 503
    stack.backend.set(route="checkout", error_rate=0.6, error_status=503)
    failing_since = time.monotonic()  # the next request (<= 50 ms at 20 req/s) is the first failing one

    opened = wait_until(lambda: mails_about(stack.sink, FAILING), timeout=60, what="the incident email")[0]
    detect_s = opened.at - failing_since

    (incident,) = stack.incidents()
    assert incident["source"] == "alertmanager"
    assert FAILING in incident["title"] and "High5xxRate" in incident["title"]
    assert incident["severity"] == "critical"
    full = wait_until(lambda: (lambda i: i if i["reports"] else None)(stack.incident(incident["id"])),
                      timeout=30, what="the incident's report")
    assert full["scope"]["backend"] == FAILING
    report = full["reports"][-1]
    assert report["engine"]["kind"] == "rules"
    assert report["scope"]["backend"] == FAILING
    errors = next(f for f in report["findings"] if f["specialist"] == "errors")
    assert errors["severity"] == "critical", errors
    assert FAILING in errors["summary"] and "5xx" in errors["summary"]
    assert [alert["labels"]["alertname"] for alert in full["alerts"]] == ["High5xxRate"]

    # the email names the backend, the alert and what the analysis found
    body = opened.text()
    assert opened.rcpt_tos == ["oncall@example.com"]
    assert opened.subject.endswith("opened"), opened.subject
    assert FAILING in body and "High5xxRate" in body
    assert re.search(r"\d+(\.\d+)?% of \d+ requests answered 5xx", body), body[:2000]
    assert HEALTHY not in opened.subject

    # 3. recovery: the rule resolves, Alertmanager sends resolved, the incident is MITIGATED
    stack.backend.set(route="checkout", error_rate=0)
    recovered_at = time.monotonic()
    mitigated = wait_until(lambda: [m for m in mails_about(stack.sink, FAILING) if "mitigated" in m.subject.lower()],
                           timeout=60, what="the mitigated email")[0]
    resolve_s = mitigated.at - recovered_at
    assert stack.incident(incident["id"])["status"] == "MITIGATED"
    assert FAILING in mitigated.text() and "MITIGATED" in mitigated.text()

    # no spam: one incident, two emails (opened, mitigated), nothing about the healthy backend
    time.sleep(3)
    assert len(stack.incidents()) == 1
    assert len(stack.sink.received()) == 2, [m.subject for m in stack.sink.received()]
    assert mails_about(stack.sink, HEALTHY) == []

    print(f"\nSTACK first failing request -> incident email: {detect_s:.1f} s; "
          f"recovery -> mitigated email: {resolve_s:.1f} s")

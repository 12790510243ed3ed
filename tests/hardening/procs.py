"""Real service processes for the hardening tests, stopped in reverse order of start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

import httpx

from tests.support.servers import ServiceProcess

Start = Callable[..., ServiceProcess]


@contextmanager
def processes() -> Iterator[Start]:
    started: list[ServiceProcess] = []

    def start(command: str, env: dict[str, str], *, ready_path: str = "/health/ready") -> ServiceProcess:
        proc = ServiceProcess(command, {"LOG_LEVEL": "INFO", **env})
        started.append(proc)
        return proc.start(ready_path=ready_path)

    try:
        yield start
    finally:
        for proc in reversed(started):
            proc.stop()


def alert_payload(alertname: str, *, backend: str = "be_app", annotations: dict[str, str] | None = None,
                  fingerprint: str = "f00dfeed00000001", status: str = "firing") -> dict[str, object]:
    """An Alertmanager v4 webhook body (shape of /work/shared/fixtures/alertmanager/*.json)."""
    labels = {"alertname": alertname, "severity": "critical", "backend": backend}
    notes = annotations or {"summary": f"{alertname} on {backend}"}
    return {
        "receiver": "oncall-copilot", "status": status, "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}', "truncatedAlerts": 0,
        "groupLabels": {"alertname": alertname}, "commonLabels": labels, "commonAnnotations": notes,
        "externalURL": "http://alertmanager:9093",
        "alerts": [{"status": status, "labels": labels, "annotations": notes,
                    "startsAt": "2026-11-22T14:07:41.553Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus:9090/graph", "fingerprint": fingerprint}],
    }


def wait_json(url: str, predicate: Callable[[object], bool], *, timeout: float = 20.0,
              headers: dict[str, str] | None = None) -> object:
    import time

    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, headers=headers, timeout=5)
            if r.status_code == 200:
                last = r.json()
                if predicate(last):
                    return last
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url}: condition not met, last answer {last!r}"[:2000])

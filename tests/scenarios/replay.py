"""Send a scenario's lines to ingestion-service (HTTP POST /logs or syslog UDP), then ask /analyze."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from tests.scenarios.model import Scenario

Transport = Literal["http", "syslog", "mixed"]
BATCH_LINES = 5000
UDP_RATE = 5000.0  # datagrams/s: faster bursts overflow the receiver's default socket buffer (kernel drops)
MIXED_UDP_SHARE = 0.25  # `mixed`: this share of the lines goes over syslog UDP, the rest over HTTP


def split_mixed(mixed: list[str], syslog: list[str], *, seed: int,
                share: float = MIXED_UDP_SHARE) -> tuple[list[str], list[str]]:
    """The same lines in two styles → (HTTP lines, headerless or not; UDP datagrams, with a header)."""
    pick = random.Random(seed * 31 + 7)
    http: list[str] = []
    udp: list[str] = []
    for raw_or_not, headed in zip(mixed, syslog, strict=True):
        (udp.append(headed) if pick.random() < share else http.append(raw_or_not))
    return http, udp


@dataclass
class IngestResult:
    accepted: int
    rejected: int
    skipped: int
    errors: list[dict[str, Any]]
    seconds: float


def _headers(token: str | None, request_id: str) -> dict[str, str]:
    headers = {"X-Request-ID": request_id}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def ingest_http(lines: list[str], base_url: str, *, token: str | None = None, request_id: str = "scenario",
                batch: int = BATCH_LINES, timeout: float = 60.0) -> IngestResult:
    """POST the lines as text/plain in batches, each with its own Idempotency-Key."""
    started = time.monotonic()
    accepted = rejected = skipped = 0
    errors: list[dict[str, Any]] = []
    with httpx.Client(base_url=base_url, timeout=timeout, headers=_headers(token, request_id)) as client:
        for number, first in enumerate(range(0, len(lines), batch)):
            body = "\n".join(lines[first:first + batch]) + "\n"
            response = client.post(
                "/logs", content=body.encode(),
                headers={"Content-Type": "text/plain", "Idempotency-Key": f"{request_id}-{number}"},
            )
            if response.status_code != 202:
                raise RuntimeError(f"POST /logs answered {response.status_code}: {response.text[:500]}")
            result = response.json()
            accepted += int(result.get("accepted", 0))
            rejected += int(result.get("rejected", 0))
            skipped += int(result.get("skipped", 0))
            errors += list(result.get("errors") or [])[: max(0, 100 - len(errors))]
    return IngestResult(accepted, rejected, skipped, errors, time.monotonic() - started)


def ingest_syslog(lines: list[str], host: str, port: int, *, base_url: str, expected_requests: int,
                  rate: float = UDP_RATE, settle_timeout: float = 30.0, token: str | None = None) -> IngestResult:
    """One datagram per line (lines carry their syslog header) at `rate` datagrams/s, then wait until
    ingestion has counted `expected_requests` over the last 24 h, or its count stops moving (UDP
    may drop: `accepted` says how many arrived)."""
    started = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for number, line in enumerate(lines, 1):
            sock.sendto(line.encode(), (host, port))
            if number % 100 == 0 and (delay := started + number / rate - time.monotonic()) > 0:
                time.sleep(delay)
    seen, last, still = 0, -1, 0
    deadline = time.monotonic() + settle_timeout
    with httpx.Client(base_url=base_url, timeout=10.0, headers=_headers(token, "scenario-syslog")) as client:
        while time.monotonic() < deadline and seen < expected_requests and still < 6:
            time.sleep(0.5)
            response = client.get("/metrics/overview", params={"window": "24h"})
            response.raise_for_status()
            seen = int(response.json().get("total_requests", 0))
            still = still + 1 if seen == last else 0
            last = seen
    return IngestResult(seen, 0, 0, [], time.monotonic() - started)


def paced(lines_at: list[tuple[float, str]]) -> Iterator[list[str]]:
    """Real-time replay: yield the lines whose timestamps have come due, batch by batch."""
    pending: list[str] = []
    for at, line in lines_at:
        if at > time.time() and pending:
            yield pending
            pending = []
        while (delay := at - time.time()) > 0:
            time.sleep(min(delay, 1.0))
        pending.append(line)
    if pending:
        yield pending


def post_events(scenario: Scenario, agent_url: str, *, start: float, token: str | None = None) -> int:
    """POST the scenario's change events to agent-service /events (offsets from `start`)."""
    for event in scenario.events:
        response = httpx.post(f"{agent_url}/events", json=event.body(start), timeout=30.0,
                              headers=_headers(token, f"scenario-{scenario.name}"))
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST /events answered {response.status_code}: {response.text[:500]}")
    return len(scenario.events)


def analyze(scenario: Scenario, agent_url: str, *, end: datetime | None, token: str | None = None,
            timeout: float = 180.0) -> tuple[dict[str, Any], float]:
    """POST /analyze with the scenario's window and scope; returns (report JSON, wall ms)."""
    body: dict[str, Any] = {"window": scenario.analyze.window}
    if end is not None:
        body["end"] = end.astimezone(UTC).isoformat()
    for key in ("backend", "frontend", "question"):
        value = getattr(scenario.analyze, key)
        if value is not None:
            body[key] = value
    started = time.monotonic()
    response = httpx.post(f"{agent_url}/analyze", json=body, timeout=timeout,
                          headers=_headers(token, f"scenario-{scenario.name}"))
    wall_ms = (time.monotonic() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"POST /analyze answered {response.status_code}: {response.text[:500]}")
    return response.json(), wall_ms

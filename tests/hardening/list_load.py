"""Issue 14 finding 6 as a reusable load: big incidents stored (every alert label cut at the 4 KiB
intake cap), then many concurrent `GET /incidents` (with and without filters) while `POST /alerts`
keep arriving, the agent's RSS sampled throughout. Used by the hardening test and `bench incidents`."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis

BIG_LABELS = 900  # labels per big alert, each sent 4,200 chars long and cut at 4,096 by the intake
BIG_VALUE = "x" * 4200
TOKEN = "load-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def delivery(n: int, *, severity: str, big: bool) -> dict[str, Any]:
    """One Alertmanager group of one alert; a big one carries BIG_LABELS labels at the cap."""
    labels = {"alertname": "ListLoad", "backend": f"be_{n}", "severity": severity}
    alert_labels = {**labels, **({f"l{i}": BIG_VALUE for i in range(BIG_LABELS)} if big else {})}
    return {
        "version": "4", "groupKey": f'{{}}:{{backend="be_{n}"}}', "truncatedAlerts": 0, "status": "firing",
        "receiver": "load", "groupLabels": {"backend": f"be_{n}"}, "commonLabels": labels,
        "commonAnnotations": {}, "externalURL": "http://am",
        "alerts": [{"status": "firing", "labels": alert_labels, "annotations": {"summary": f"load {n}"},
                    "startsAt": "2026-11-22T14:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "", "fingerprint": f"{n:016x}"}],
    }


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@contextmanager
def rss_peak(pid: int, *, every_s: float = 0.01) -> Iterator[list[int]]:
    """Samples the process's RSS (KiB) in a thread while the block runs; `[peak]` after it."""
    peak = [rss_kib(pid)]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            stop.wait(every_s)

    thread = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak[0] = max(peak[0], rss_kib(pid))


def settled(redis_url: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The stored incidents once none has work pending (read straight from Redis, not through the
    agent, so the agent's memory is not touched by the check); {} while some are missing or busy."""
    client = redis.Redis.from_url(redis_url)
    try:
        raws = client.mget([f"incidents:{i}" for i in ids])
    finally:
        client.close()
    found = {i: json.loads(raw) for i, raw in zip(ids, raws, strict=True) if raw}
    if len(found) < len(ids) or any(doc["pending"] for doc in found.values()):
        return {}
    return found


def store_big_incidents(url: str, redis_url: str, count: int, *, timeout_s: float = 120.0) -> dict[int, dict[str, Any]]:
    """`count` big critical incidents, created and settled by the agent's worker."""
    ids = []
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
        for n in range(count):
            answer = client.post("/alerts", json=delivery(n, severity="critical", big=True))
            assert answer.status_code == 202, answer.text[:300]
            ids.extend(answer.json()["incident_ids"])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := settled(redis_url, ids):
            return found
        time.sleep(0.2)
    raise TimeoutError(f"the {count} big incidents were not settled after {timeout_s}s")


def list_reads(status: str, concurrent: int = 30) -> list[dict[str, Any]]:
    """`concurrent` list queries, with and without filters (`status`: the big incidents' status)."""
    kinds: list[dict[str, Any]] = [
        {"limit": 100},
        {"severity": "critical", "limit": 100},
        {"status": status, "limit": 100},
        {"status": status, "severity": "critical", "limit": 100},
        {"severity": "critical", "limit": 4},
        {"limit": 100, "cursor": 0},
    ]
    return [kinds[i % len(kinds)] for i in range(concurrent)]


@dataclass
class ListAnswer:
    params: dict[str, Any]
    status: int
    body: dict[str, Any] | str
    ms: float


@dataclass
class LoadResult:
    lists: list[ListAnswer] = field(default_factory=list)
    alert_statuses: list[int] = field(default_factory=list)
    alert_ms: list[float] = field(default_factory=list)

    @property
    def list_ms(self) -> list[float]:
        return [a.ms for a in self.lists]


async def _reads(client: httpx.AsyncClient, params: list[dict[str, Any]], result: LoadResult) -> None:
    async def one(p: dict[str, Any]) -> None:
        started = time.perf_counter()
        response = await client.get("/incidents", params=p)
        ms = (time.perf_counter() - started) * 1000
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else response.text
        result.lists.append(ListAnswer(p, response.status_code, body, ms))

    await asyncio.gather(*(one(p) for p in params))


async def _alerts(client: httpx.AsyncClient, first: int, stop: asyncio.Event, result: LoadResult, cap: int,
                  every_s: float) -> None:
    n = first
    while not stop.is_set() and n < first + cap:
        started = time.perf_counter()
        response = await client.post("/alerts", json=delivery(n, severity="info", big=False))
        result.alert_ms.append((time.perf_counter() - started) * 1000)
        result.alert_statuses.append(response.status_code)
        n += 1
        await asyncio.sleep(max(0.0, every_s - (time.perf_counter() - started)))


async def reads_during_alerts(url: str, params: list[dict[str, Any]], *, rounds: int = 1, first_alert: int = 1000,
                              alert_cap: int = 60, alert_every_s: float = 0.05) -> LoadResult:
    """`rounds` times the `params` reads all at once, while new small info alerts are posted one
    after another on their own connection, one every `alert_every_s` at most (`alert_cap` in all):
    a steady Alertmanager, not a flood that would make the worker the bottleneck."""
    result = LoadResult()
    limits = httpx.Limits(max_connections=len(params) + 1, max_keepalive_connections=len(params) + 1)
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=120, limits=limits) as reader, \
            httpx.AsyncClient(base_url=url, headers=AUTH, timeout=120) as poster:
        stop = asyncio.Event()
        posting = asyncio.create_task(_alerts(poster, first_alert, stop, result, alert_cap, alert_every_s))
        await asyncio.sleep(0)  # the first POST is on its way before the reads start
        try:
            for _ in range(rounds):
                await _reads(reader, params, result)
        finally:
            stop.set()
            await posting
    return result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]

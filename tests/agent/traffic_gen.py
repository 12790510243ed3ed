"""Seeded generator of ingestion JSON entries (the contract's fields) for real-ingestion tests."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Entry = dict[str, Any]


@dataclass
class Backend:
    name: str
    per_minute: int
    servers: tuple[str, ...] = ("s1", "s2")
    frontend: str = "fe_main"
    latency_ms: float = 60.0
    error_5xx: float = 0.002
    error_4xx: float = 0.01
    path: str = "/api/items"


# A change applied to one backend's entries from `start_minute` on (minutes from the first).
Change = Callable[[random.Random, Entry], Entry | None]


@dataclass
class Phase:
    backend: str | None  # None: every backend
    start_minute: int
    change: Change


@dataclass
class Traffic:
    backends: list[Backend]
    minutes: int
    end: datetime  # exclusive: entries fill [end - minutes, end)
    phases: list[Phase] = field(default_factory=list)
    seed: int = 7

    def entries(self) -> Iterator[Entry]:
        rng = random.Random(self.seed)
        first = self.end - timedelta(minutes=self.minutes)
        for minute in range(self.minutes):
            base = first + timedelta(minutes=minute)
            for be in self.backends:
                for _ in range(be.per_minute):
                    entry: Entry | None = self._entry(rng, be, base + timedelta(seconds=rng.uniform(0, 59.9)))
                    for phase in self.phases:
                        if entry is not None and minute >= phase.start_minute and phase.backend in (None, be.name):
                            entry = phase.change(rng, entry)
                    if entry is not None:
                        yield entry

    def _entry(self, rng: random.Random, be: Backend, at: datetime) -> Entry:
        roll = rng.random()
        status = 503 if roll < be.error_5xx else 404 if roll < be.error_5xx + be.error_4xx else 200
        ta = max(1, int(rng.lognormvariate(0, 0.35) * be.latency_ms))
        return {
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "frontend": be.frontend,
            "backend": be.name,
            "server": rng.choice(be.servers),
            "status_code": status,
            "response_time_ms": ta,
            "time_request_ms": 0,
            "time_queue_ms": 0,
            "time_connect_ms": 1,
            "time_response_ms": max(0, ta - 2),
            "method": "GET",
            "path": be.path,
            "client_ip": f"10.0.{rng.randint(0, 3)}.{rng.randint(1, 250)}",
            "termination_state": "----",
            "actconn": 20,
            "srv_conn": 5,
            "srv_queue": 0,
            "backend_queue": 0,
        }


def slower(factor: float) -> Change:
    def change(rng: random.Random, e: Entry) -> Entry:
        e["response_time_ms"] = int(e["response_time_ms"] * factor)
        e["time_response_ms"] = max(0, e["response_time_ms"] - 2)
        return e
    return change


def failing(rate: float, status: int, state: str = "----") -> Change:
    def change(rng: random.Random, e: Entry) -> Entry:
        if rng.random() < rate:
            e["status_code"] = status
            e["termination_state"] = state
        return e
    return change


def silent() -> Change:
    return lambda rng, e: None


def queueing(share: float, wait_ms: int, srv_queue: int) -> Change:
    def change(rng: random.Random, e: Entry) -> Entry:
        if rng.random() < share:
            e["time_queue_ms"] = int(rng.uniform(0.5, 1.5) * wait_ms)
            e["response_time_ms"] += e["time_queue_ms"]
            e["srv_queue"] = rng.randint(1, srv_queue)
            e["backend_queue"] = rng.randint(0, 3)
            e["srv_conn"] = 50
        return e
    return change


def on_server(server: str, change: Change) -> Change:
    """`change` for the entries one server of the backend handles only."""
    return lambda rng, e: change(rng, e) if e["server"] == server else e

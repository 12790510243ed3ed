"""A contract-shaped stand-in for ingestion-service's query API, as an httpx.MockTransport.

Each endpoint answers from a dict keyed by backend (None = site-wide); `previous_end` marks the
queries about the window before the analysis (end = the analysis window's start)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import httpx

ENDPOINTS = {
    "/metrics/overview": "overview",
    "/metrics/status-codes": "status_codes",
    "/metrics/response-times": "response_times",
    "/metrics/rps": "rps",
    "/metrics/backends": "backends",
    "/metrics/frontends": "frontends",
    "/metrics/saturation": "saturation",
    "/metrics/termination-states": "termination_states",
    "/metrics/breakdown": "breakdown",
}


def overview(total: int, e4: int = 0, e5: int = 0, seconds: int = 900, previous: dict | None = None) -> dict:
    body = {
        "window_seconds": seconds,
        "total_requests": total,
        "errors_4xx": e4,
        "errors_5xx": e5,
        "error_rate_4xx_pct": round(100 * e4 / total, 2) if total else 0.0,
        "error_rate_5xx_pct": round(100 * e5 / total, 2) if total else 0.0,
        "rps": round(total / seconds, 3),
    }
    if previous is not None:
        body["previous"] = previous
    return body


def response_times(count: int, p95: float, p99: float, seconds: int = 900) -> dict:
    return {"window_seconds": seconds, "count": count, "p50_ms": p95 / 3, "p90_ms": p95 * 0.8,
            "p95_ms": p95, "p99_ms": p99, "max_ms": p99 * 1.5}


def backend(name: str, requests: int, rate5: float = 0.0, p95: float = 80.0, p99: float = 150.0) -> dict:
    return {"name": name, "requests": requests, "error_rate_5xx_pct": rate5, "p95_ms": p95, "p99_ms": p99}


def series(values: list[int]) -> dict:
    return {"series": [{"minute": f"2026-01-01T10:{i:02d}:00Z", "requests": v, "rps": round(v / 60, 3)}
                       for i, v in enumerate(values)]}


def saturation(queued: int = 0, srv_queue: int = 0, be_queue: int = 0, srv_conn: int = 10, mem_pct: float = 20.0) -> dict:
    return {
        "redis": {"used_memory_bytes": int(mem_pct * 10_000), "maxmemory_bytes": 1_000_000, "memory_pct": mem_pct,
                  "connected_clients": 3, "blocked_clients": 0, "rejected_connections": 0, "evicted_keys": 0},
        "haproxy": {"max_actconn": 40, "max_srv_conn": srv_conn, "max_srv_queue": srv_queue,
                    "max_backend_queue": be_queue, "queued_requests": queued, "retries": 0},
    }


@dataclass
class FakeIngestion:
    data: dict[str, dict[Any, Any]] = field(default_factory=dict)
    previous: dict[str, dict[Any, Any]] = field(default_factory=dict)
    previous_end: str | None = None
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)  # endpoint → status to answer
    by_window: dict[tuple[str, str], Any] = field(default_factory=dict)  # (endpoint, window) → body

    def set(
        self, name: str, body: Any, *, backend: str | None = None, previous: bool = False, window: str | None = None
    ) -> FakeIngestion:
        if window is not None:
            self.by_window[(name, window)] = body
            return self
        (self.previous if previous else self.data).setdefault(name, {})[backend] = body
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.calls.append((request.url.path, params))
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        name = ENDPOINTS.get(request.url.path)
        if name is None:
            return httpx.Response(404, json={"detail": "not found"})
        if name in self.fail:
            return httpx.Response(self.fail[name], json={"detail": "scripted failure"})
        if (name, params.get("window")) in self.by_window:
            return httpx.Response(200, json=copy.deepcopy(self.by_window[(name, params["window"])]))
        table = self.data
        if self.previous_end is not None and params.get("end") == self.previous_end:
            table = self.previous
        bodies = table.get(name, {})
        body = bodies.get(params.get("backend"), bodies.get(None) if "backend" not in params else None)
        if body is None:
            body = EMPTY[name]
        return httpx.Response(200, json=copy.deepcopy(body))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler), base_url="http://ingestion.test")


EMPTY: dict[str, Any] = {
    "overview": overview(0),
    "status_codes": {"window_seconds": 900, "status_codes": {}},
    "response_times": {"window_seconds": 900, "count": 0, "p50_ms": None, "p90_ms": None, "p95_ms": None,
                       "p99_ms": None, "max_ms": None},
    "rps": series([0] * 15),
    "backends": {"backends": []},
    "frontends": {"frontends": []},
    "saturation": saturation(),
    "termination_states": {"window_seconds": 900, "termination_states": {}},
    "breakdown": {"scopes": []},  # tests/agent/diagnosis/builders.py builds full ones
}

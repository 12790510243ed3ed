"""Test helpers for alerts and incidents: a fake analyzer (where /analyze is not under test), a
small notifier served on loopback that records calls, and the agent app running its lifespan."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from agent_service.app import create_app
from agent_service.models import (
    AnalyzeRequest,
    EngineUsage,
    Finding,
    IncidentReport,
    Scope,
    Window,
)
from agent_service.orchestrator import Limiter
from agent_service.settings import Settings
from tests.support.servers import serve_app


def make_report(request: AnalyzeRequest | None = None, *, severity: str = "critical") -> IncidentReport:
    end = datetime.now(UTC)
    return IncidentReport(
        id="rep-test",
        created_at=end,
        window=Window(start=end - timedelta(minutes=15), end=end, seconds=900),
        scope=Scope(backend=request.backend if request else None, frontend=request.frontend if request else None),
        overall_severity=severity,  # type: ignore[arg-type]
        title="5xx errors on be_app",
        diagnosis="be_app answers 503 for 40% of requests since 14:05.",
        recommendations=["Check be_app servers' health", "Roll back the last deploy"],
        findings=[
            Finding(specialist=name, severity="critical" if name == "errors" else "ok", summary=f"{name} summary")
            for name in ("latency", "errors", "saturation", "traffic")
        ],
        engine=EngineUsage(kind="rules"),
    )


class FakeAnalyzer:
    def __init__(self, *, delay: float = 0.0, fail: bool = False, limit: int = 16) -> None:
        self.limiter = Limiter(limit)  # the MAX_ANALYSES slots an analyzer carries
        self.requests: list[AnalyzeRequest] = []
        self.delay = delay
        self.fail = fail

    async def analyze(self, request: AnalyzeRequest) -> IncidentReport:
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("ingestion unreachable")
        return make_report(request)


class FakeNotifier:
    """POST /notify recorded; the same idempotency_key answers 200 with the first id. `fail_status`
    answers every call with that status; `fail_first` answers the first N calls with it (then 202).
    `received` counts every POST, answered or refused."""

    def __init__(self, *, token: str | None = None, fail_status: int | None = None, fail_first: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.received = 0
        self.fail_first = fail_first
        self.by_key: dict[str, str] = {}
        self.token = token
        self.fail_status = fail_status
        self.app = FastAPI()

        @self.app.post("/notify")
        async def notify(request: Request) -> JSONResponse:
            if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
                return JSONResponse({"detail": "bad token"}, status_code=403)
            self.received += 1
            if self.fail_status and (not self.fail_first or self.received <= self.fail_first):
                return JSONResponse({"detail": "down"}, status_code=self.fail_status)
            body = await request.json()
            self.calls.append({**body, "_request_id": request.headers.get("x-request-id")})
            key = body["idempotency_key"]
            if key in self.by_key:
                return JSONResponse({"id": self.by_key[key], "status": "queued"}, status_code=200)
            self.by_key[key] = f"n{len(self.by_key) + 1}"
            return JSONResponse({"id": self.by_key[key], "status": "queued"}, status_code=202)

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Calls that would produce an email: first call per idempotency key."""
        seen: set[str] = set()
        out = []
        for call in self.calls:
            if call["idempotency_key"] not in seen:
                seen.add(call["idempotency_key"])
                out.append(call)
        return out


@contextmanager
def notifier_server(notifier: FakeNotifier) -> Iterator[str]:
    with serve_app(notifier.app) as url:
        yield url


@contextmanager
def running_notifier(token: str | None = None) -> Iterator[FakeNotifier]:
    """A FakeNotifier served on loopback, its base URL as `.url` (for a pytest fixture)."""
    fake = FakeNotifier(token=token)
    with notifier_server(fake) as url:
        fake.url = url  # type: ignore[attr-defined]
        yield fake


def settings_for(redis_url: str, notifier_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "notifier_url": notifier_url,
        "ingestion_url": "http://127.0.0.1:9",  # nothing listens: TTD falls back, as it says
        "llm_engine": "rules",
        "alert_claim_idle_s": 0.2,
        "log_json": False,
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def running_app(settings: Settings, *, analyzer: Any = None) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, analyzer=analyzer)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://agent") as client:
            yield app, client


def fixture_body(shared_fixtures: Path, name: str) -> dict[str, Any]:
    return json.loads((shared_fixtures / "alertmanager" / name).read_text())["body"]


async def wait_for(predicate: Any, *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)

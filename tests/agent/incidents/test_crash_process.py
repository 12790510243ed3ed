"""A real agent-service process killed (SIGKILL) after answering 202, in the middle of the
analysis; a new process re-claims the delivery and finishes it: one incident, one analysis
result, one `opened` notification."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from tests.agent.incidents.support import FakeNotifier, fixture_body
from scripts.local_stack import wait_until as shared_wait
from tests.support.servers import ServiceProcess, serve_app


class StallingIngestion:
    """Every ingestion query hangs until released, then answers 503."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.hits = 0
        self.app = FastAPI()

        @self.app.get("/{path:path}")
        async def anything(path: str) -> JSONResponse:
            self.hits += 1
            for _ in range(300):
                if self.released.is_set():
                    break
                await asyncio.sleep(0.1)
            return JSONResponse({"detail": "unavailable"}, status_code=503)


def wait_until(check: Any, timeout: float, what: str, agent: ServiceProcess) -> Any:
    return shared_wait(check, timeout=timeout, what=what, interval=0.1, details=lambda: agent.logs()[-3000:])


def test_sigkill_during_analysis_then_restart(redis_url: str, shared_fixtures) -> None:
    notifier, ingestion = FakeNotifier(), StallingIngestion()
    body = fixture_body(shared_fixtures, "firing-second-group.json")
    body["commonLabels"]["backend"] = "be_app"
    with serve_app(notifier.app) as notifier_url, serve_app(ingestion.app) as ingestion_url:
        env = {"REDIS_URL": redis_url, "NOTIFIER_URL": notifier_url, "INGESTION_URL": ingestion_url,
               "LLM_ENGINE": "rules", "INGESTION_TIMEOUT_S": "60", "ALERT_CLAIM_IDLE_S": "1",
               "LOG_JSON": "false", "API_TOKEN": "", "ALERTS_TOKEN": "", "ANTHROPIC_API_KEY": ""}
        first = ServiceProcess("agent-service", env).start()
        try:
            accepted = httpx.post(f"{first.url}/alerts", json=body, timeout=10)
            assert accepted.status_code == 202 and accepted.json()["incident_ids"] == [1]

            def analysing() -> bool:
                got = httpx.get(f"{first.url}/incidents/1", timeout=5)
                return got.status_code == 200 and any(e["kind"] == "analysis_started" for e in got.json()["timeline"])

            wait_until(analysing, 20, "analysis started", first)
            wait_until(lambda: ingestion.hits > 0, 20, "the analysis querying ingestion", first)
        finally:
            first.stop(kill=True)
        assert notifier.calls == []
        ingestion.released.set()

        second = ServiceProcess("agent-service", env).start()
        try:
            def finished() -> dict[str, Any] | None:
                got = httpx.get(f"{second.url}/incidents/1", timeout=5).json()
                return got if not got["pending"] else None

            incident = wait_until(finished, 40, "the re-claimed delivery finished", second)
            listing = httpx.get(f"{second.url}/incidents", timeout=5).json()
        finally:
            second.stop()
    kinds = [e["kind"] for e in incident["timeline"]]
    assert listing["count"] == 1
    assert kinds.count("incident_opened") == 1 and kinds.count("alert_received") == 1
    assert kinds.count("analysis_started") == 1
    assert kinds.count("analysis_finished") + kinds.count("analysis_failed") == 1
    assert [c["event"] for c in notifier.calls] == ["opened"]

"""The agent-service process SIGKILLed right after it acknowledged (202) a burst of alert
deliveries, most still queued in its Redis stream; a new process takes over the queue: every
alert group becomes exactly one incident, analysed once, opened-notified once; replays of the
same deliveries after the restart change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from tests.agent.incidents.support import FakeNotifier
from tests.hardening.procs import alert_payload, processes, wait_json
from tests.support.servers import serve_app

pytestmark = pytest.mark.real

GROUPS = 5


def slow_ingestion() -> FastAPI:
    """An ingestion stand-in that takes 0.3 s per query: analyses are slow, so alerts queue up."""
    app = FastAPI()

    @app.get("/{path:path}")
    async def anything(path: str) -> JSONResponse:
        await asyncio.sleep(0.3)
        return JSONResponse({"detail": "slow stand-in"}, status_code=503)

    return app


@pytest.fixture
def notifier() -> Iterator[FakeNotifier]:
    fake = FakeNotifier()
    with serve_app(fake.app) as url:
        fake.url = url  # type: ignore[attr-defined]
        yield fake


def _kill_restart_and_check(redis_url: str, notifier: FakeNotifier, *, first_worker: bool, wait_s: float) -> None:
    payloads = [alert_payload(f"Down{g}", backend=f"be{g}", fingerprint=f"{g:016x}") for g in range(GROUPS)]
    with serve_app(slow_ingestion()) as ingestion_url, processes() as start:
        env = {"REDIS_URL": redis_url, "LLM_ENGINE": "rules", "INGESTION_URL": ingestion_url,
               "INGESTION_TIMEOUT_S": "3", "NOTIFIER_URL": notifier.url,  # type: ignore[attr-defined]
               "ALERT_CLAIM_IDLE_S": "1"}
        first = start("agent-service", {**env, "ALERT_WORKER_ENABLED": str(first_worker).lower()})
        for body in payloads:
            r = httpx.post(first.url + "/alerts", json=body, timeout=10)
            assert r.status_code == 202, r.text
        first.stop(kill=True)  # SIGKILL: no graceful hand-back
        assert len(notifier.calls) < GROUPS, "everything was done before the kill: nothing was tested"

        second = start("agent-service", env)
        for body in payloads[:2]:  # Alertmanager re-sends after the restart: duplicates
            assert httpx.post(second.url + "/alerts", json=body, timeout=10).status_code == 202
        listing = wait_json(second.url + "/incidents?limit=100",
                            lambda doc: doc["count"] >= GROUPS, timeout=wait_s)  # type: ignore[index]
        incidents = [wait_json(f"{second.url}/incidents/{s['id']}", lambda i: not i["pending"],  # type: ignore[index]
                               timeout=wait_s) for s in listing["incidents"]]  # type: ignore[index]

    assert len(incidents) == GROUPS
    assert sorted(i["group_key"] for i in incidents) == sorted(p["groupKey"] for p in payloads)  # type: ignore[index]
    for incident in incidents:
        assert len(incident["alerts"]) == 1, incident["alerts"]
        assert len(incident["reports"]) == 1, [r["id"] for r in incident["reports"]]
    opened = [c for c in notifier.sent if c["event"] == "opened"]
    assert sorted(c["incident_id"] for c in opened) == sorted(i["id"] for i in incidents)


def test_agent_killed_with_alerts_queued_processes_each_once(redis_url: str, notifier: FakeNotifier) -> None:
    """Deliveries acknowledged (202, durable in the stream) but not yet read when the process dies."""
    _kill_restart_and_check(redis_url, notifier, first_worker=False, wait_s=60)


def test_agent_killed_mid_analysis_resumes_the_queue_promptly(redis_url: str, notifier: FakeNotifier) -> None:
    """Killed while holding an incident's drain lock. Found stalling the whole queue for 240 s
    (lock TTL = analysis timeout + 60 s, worker waiting on it); fixed in 48bad92 / cb35276
    (15 s TTL kept alive by its holder, per-incident background drains)."""
    _kill_restart_and_check(redis_url, notifier, first_worker=True, wait_s=45)

"""Incident analyses take one of the MAX_ANALYSES slots that POST /analyze uses: they wait for one
(an alert's analysis is never dropped), at most INCIDENT_ANALYSIS_SLOT_WAIT_S, then run over the
limit and say so on the timeline. Real redis-server, the agent app with its alert worker."""

from __future__ import annotations

import asyncio

import pytest

from agent_service.orchestrator import Limiter
from tests.agent.incidents.support import (
    FakeAnalyzer,
    fixture_body,
    running_app,
    running_notifier,
    settings_for,
    wait_for,
)

AUTH = {"Authorization": "Bearer api-secret"}


class LimitedAnalyzer(FakeAnalyzer):
    """The fake analysis, behind the real Limiter the Analyzer and POST /analyze use."""

    def __init__(self, limit: int, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.limiter = Limiter(limit)
        self.active_seen: list[int] = []

    async def analyze(self, request):  # type: ignore[no-untyped-def]
        self.active_seen.append(self.limiter.active)
        return await super().analyze(request)


@pytest.fixture
def notifier():
    with running_notifier() as fake:
        yield fake


async def _timeline(client) -> list[str]:  # type: ignore[no-untyped-def]
    got = await client.get("/incidents/1", headers=AUTH)
    return [e["kind"] for e in got.json()["timeline"]] if got.status_code == 200 else []


async def test_an_incident_analysis_holds_a_slot_that_post_analyze_then_lacks(redis_url, notifier,
                                                                              shared_fixtures) -> None:
    analyzer = LimitedAnalyzer(1, delay=2.0)
    settings = settings_for(redis_url, notifier.url, api_token="api-secret", max_analyses=1)
    async with running_app(settings, analyzer=analyzer) as (_app, client):
        await client.post("/alerts", json=fixture_body(shared_fixtures, "firing-single.json"))
        await wait_for(lambda: _started(analyzer))
        busy = await client.post("/analyze", headers=AUTH, json={"window": "15m"})
        await wait_for(lambda: _has(client, "analysis_finished"))
        free = await client.post("/analyze", headers=AUTH, json={"window": "15m"})
    assert busy.status_code == 429 and busy.headers["retry-after"]
    assert analyzer.active_seen[0] == 1, "the incident analysis ran holding the slot"
    assert free.status_code == 200


async def test_an_incident_analysis_waits_for_a_free_slot(redis_url, notifier, shared_fixtures) -> None:
    analyzer = LimitedAnalyzer(1)
    settings = settings_for(redis_url, notifier.url, incident_analysis_slot_wait_s=30)
    async with running_app(settings, analyzer=analyzer) as (_app, client):
        async with analyzer.limiter.slot():  # an /analyze in progress
            await client.post("/alerts", json=fixture_body(shared_fixtures, "firing-single.json"))
            await wait_for(lambda: _has(client, "analysis_started"))
            await asyncio.sleep(1.0)
            waiting = list(analyzer.requests)
        await wait_for(lambda: _has(client, "analysis_finished"))
        kinds = await _timeline(client)
    assert waiting == [], "the analysis must not start while MAX_ANALYSES are running"
    assert len(analyzer.requests) == 1 and "analysis_delayed" not in kinds
    assert [c["event"] for c in notifier.calls] == ["opened"]


async def test_a_bounded_wait_then_the_analysis_runs_over_the_limit_and_says_so(redis_url, notifier,
                                                                              shared_fixtures) -> None:
    analyzer = LimitedAnalyzer(1)
    settings = settings_for(redis_url, notifier.url, incident_analysis_slot_wait_s=0.5)
    async with running_app(settings, analyzer=analyzer) as (_app, client):
        async with analyzer.limiter.slot():  # held throughout: the wait runs out
            await client.post("/alerts", json=fixture_body(shared_fixtures, "firing-single.json"))
            await wait_for(lambda: _has(client, "analysis_finished"))
            incident = (await client.get("/incidents/1", headers=AUTH)).json()
    delayed = [e for e in incident["timeline"] if e["kind"] == "analysis_delayed"]
    assert len(delayed) == 1 and "0.5s" in delayed[0]["message"] and "MAX_ANALYSES" in delayed[0]["message"]
    assert incident["reports"], "the analysis was not dropped"
    assert analyzer.active_seen == [1], "over the limit: only the slot held by the other analysis is counted"
    assert analyzer.limiter.active == 0 and not analyzer.limiter._semaphore.locked(), "no slot leaked or freed twice"
    assert [c["event"] for c in notifier.calls] == ["opened"]


async def _started(analyzer: FakeAnalyzer) -> bool:
    return bool(analyzer.requests)


async def _has(client, kind: str) -> bool:  # type: ignore[no-untyped-def]
    return kind in await _timeline(client)

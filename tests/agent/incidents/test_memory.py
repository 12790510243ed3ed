"""Memory of past incidents and the quiet period, on a real redis-server."""

from __future__ import annotations

from datetime import timedelta

from agent_service.incidents.memory import IncidentMemory, SearchPastIncidentsTool
from agent_service.incidents.service import now_utc
from agent_service.incidents.store import IncidentStore
from agent_service.models import Finding
from tests.agent.incidents.support import make_report, running_app, settings_for

AUTH = {"Authorization": "Bearer t"}


async def _resolved(client, title, backend, root_cause, resolution) -> None:
    created = (await client.post("/incidents", headers=AUTH, json={"title": title, "backend": backend})).json()
    await client.post(f"/incidents/{created['id']}/status", headers=AUTH, json={
        "status": "RESOLVED", "root_cause": root_cause, "resolution": resolution})


async def test_search_past_incidents_tool_and_hook(redis_url) -> None:
    async with running_app(settings_for(redis_url, "", api_token="t")) as (app, client):
        await _resolved(client, "5xx errors on be_app", "be_app", "bad deploy of be_app", "rolled back to v41")
        await _resolved(client, "Latency on be_search", "be_search", "GC pauses", "raised heap")
        await client.post("/incidents", headers=AUTH, json={"title": "5xx errors on be_app again"})  # still open
        memory: IncidentMemory = app.state.agent.memory
        tool = memory.tool()
        result = await tool.run({"query": "be_app 5xx"})
        empty = await tool.run({"query": "kafka lag"})
        bad = await tool.run({"query": ""})
        bad_limit = await tool.run({"query": "x", "limit": 99})
        report = make_report()
        report.scope.backend = "be_app"
        report.findings[1] = Finding(specialist="errors", severity="critical", summary="503s")
        similar = await memory.similar_incidents(report)
        # the app's own Analyzer got the tool and the hook
        analyzer = app.state.agent.analyzer
    assert result.status == "ok"
    found = result.data["incidents"]
    assert [f["incident_id"] for f in found][:1] == [1]
    assert found[0]["resolution"] == "rolled back to v41"
    assert all(f["incident_id"] != 3 for f in found)  # open incidents are not memory
    assert empty.data["count"] == 0
    assert bad.status == "error" and bad_limit.status == "error"
    assert similar and similar[0].incident_id == 1 and similar[0].root_cause == "bad deploy of be_app"
    if analyzer is not None and hasattr(analyzer, "extra_tools"):
        assert any(isinstance(t, SearchPastIncidentsTool) for t in analyzer.extra_tools)
        assert analyzer.similar_incidents == memory.similar_incidents


async def test_tool_reports_store_trouble_as_an_error_result(fresh_redis) -> None:
    async with running_app(settings_for(fresh_redis.url, "", alert_worker_enabled=False)) as (app, _client):
        fresh_redis.kill()
        result = await SearchPastIncidentsTool(app.state.agent.memory).run({"query": "be_app"})
    assert result.status == "error" and "unavailable" in (result.error or "")


async def test_quiet_period_resolves_mitigated_incidents(redis_url) -> None:
    settings = settings_for(redis_url, "", api_token="t", auto_resolve_quiet_minutes=10, alert_worker_enabled=False)
    async with running_app(settings) as (app, client):
        await client.post("/incidents", headers=AUTH, json={"title": "a"})
        await client.post("/incidents", headers=AUTH, json={"title": "b"})
        await client.post("/incidents/1/status", headers=AUTH, json={"status": "MITIGATED"})
        service = app.state.agent.incidents
        assert await service.auto_resolve(now_utc() + timedelta(minutes=5)) == []
        assert await service.auto_resolve(now_utc() + timedelta(minutes=11)) == [1]
        store = IncidentStore(app.state.agent.redis)
        first, second = await store.get(1), await store.get(2)
    assert first.status == "RESOLVED" and first.timeline[-2].actor == "system:quiet-period"
    assert second.status == "OPEN"

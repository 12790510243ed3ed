"""search_runbooks as the app wires it (RUNBOOKS_DIR, real redis-server): its arguments, its
result as data, and a RESOLVED incident found again with what fixed it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent_service.incidents.analysis import alert_refs
from agent_service.incidents.models import AlertRecord, Incident
from agent_service.runbooks.index import KnowledgeIndex
from agent_service.runbooks.tool import NAME, SearchRunbooksTool
from tests.agent.incidents.support import running_app, settings_for

AUTH = {"Authorization": "Bearer t"}
SHIPPED = Path(__file__).resolve().parents[3] / "monitoring" / "runbooks"


def _tool(app) -> SearchRunbooksTool:
    return next(t for t in app.state.agent.analyzer.extra_tools if t.name == NAME)


async def test_every_specialist_gets_search_runbooks_and_finds_a_fixed_incident_again(redis_url) -> None:
    settings = settings_for(redis_url, "", api_token="t", runbooks_dir=str(SHIPPED))
    async with running_app(settings) as (app, client):
        tool = _tool(app)
        runbook = await tool.run({"alert": "High5xxRate", "backend": "be_app", "kind": "runbook", "limit": 3})
        created = (await client.post("/incidents", headers=AUTH, json={"title": "5xx on be_app", "backend": "be_app"})).json()
        await client.post(f"/incidents/{created['id']}/status", headers=AUTH, json={
            "status": "RESOLVED", "root_cause": "app3 lost its database pool", "resolution": "drained app3"})
        await client.post("/incidents", headers=AUTH, json={"title": "database pool on be_app", "backend": "be_app"})
        again = await tool.run({"query": "database pool lost", "backend": "be_app"})
        bad = [await tool.run(args) for args in ({}, {"query": "x", "limit": 99}, {"query": "x", "kind": "wiki"},
                                                  {"query": "x", "extra": 1})]
    assert runbook.status == "ok" and runbook.data["count"] == 3
    first = runbook.data["sections"][0]
    assert (first["kind"], first["title"], first["file"]) == ("runbook", "High5xxRate", "runbooks/high-5xx-rate.md")
    assert set(first) >= {"heading", "excerpt", "score", "matched_by"} and "alert" in first["matched_by"]
    incidents = [s for s in again.data["sections"] if s["kind"] == "incident"]
    assert [(s["incident_id"], s["resolution"]) for s in incidents] == [(created["id"], "drained app3")]  # open #2 is not memory
    assert incidents[0]["resolved_at"] is not None
    assert [b.status for b in bad] == ["error"] * 4


async def test_unset_runbooks_dir_means_no_tool(redis_url) -> None:
    async with running_app(settings_for(redis_url, "")) as (app, _):
        assert all(t.name != NAME for t in app.state.agent.analyzer.extra_tools)


async def test_an_unreachable_incident_store_still_answers_runbooks() -> None:
    async def down() -> list:
        raise ConnectionError("redis down")

    result = await SearchRunbooksTool(KnowledgeIndex(SHIPPED), incidents=down).run({"alert": "RedisDown"})
    assert result.status == "ok" and result.data["sections"][0]["title"] == "RedisDown"


def test_an_incident_analysis_matches_runbooks_by_its_alerts() -> None:
    at = datetime(2026, 11, 3, tzinfo=UTC)
    alerts = [AlertRecord(fingerprint=str(i), status="firing", labels={"alertname": name}, starts_at=at,
                          annotations={"runbook_url": f"monitoring/runbooks/{name}.md"} if i else {})
              for i, name in enumerate(["High5xxRate", "High5xxRate", "ServerHigh5xxRate"])]
    incident = Incident.model_validate({"id": 1, "title": "t", "status": "OPEN", "severity": "critical",
                                        "created_at": at, "updated_at": at, "alerts": [a.model_dump() for a in alerts]})
    refs = alert_refs(incident)
    assert [(r.name, r.runbook_url) for r in refs] == [
        ("High5xxRate", "monitoring/runbooks/High5xxRate.md"), ("ServerHigh5xxRate", "monitoring/runbooks/ServerHigh5xxRate.md")]


def test_runbook_and_post_mortem_text_is_escaped_in_emails_and_reports() -> None:
    from agent_service.incidents.postmortem import render_postmortem
    from agent_service.incidents.render import incident_markdown
    from agent_service.models import SimilarIncident
    from agent_service.report.markdown import render
    from tests.agent.incidents.support import make_report

    report = make_report()
    report.recommendations = ["Follow runbook [click](https://evil) › # Steps (runbooks/x.md)."]
    report.similar_incidents = [SimilarIncident(
        incident_id=12, title="<b>be_app</b>", resolution="draining app3 ![x](https://evil)",
        resolved_at=datetime(2026, 11, 3, tzinfo=UTC))]
    at = datetime(2026, 11, 4, tzinfo=UTC)
    incident = Incident.model_validate({"id": 2, "title": "t", "status": "OPEN", "severity": "critical",
                                        "created_at": at, "updated_at": at, "reports": [report.model_dump()]})
    for text in (incident_markdown(incident), render(report), render_postmortem(incident)):
        assert r"Last seen as #12 on 3 Nov: fixed by draining app3 \!\[x\](https://evil) (\<b\>be_app\</b\>)" in text
        assert "](https://evil)" not in text.replace(r"\](https://evil)", "")
    assert r"Follow runbook \[click\](https://evil) › \# Steps (runbooks/x.md)." in render(report)

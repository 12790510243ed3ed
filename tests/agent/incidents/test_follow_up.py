"""The follow-up analysis (issue 21): a fast page goes out with the first analysis (about a minute
of data); FOLLOW_UP_ANALYSIS_S later the incident is analysed again and that report goes out as
exactly one `updated` notification — never more, also when Alertmanager re-sends the group."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from agent_service.incidents import followup
from agent_service.incidents.models import Incident, IncidentStatus
from agent_service.models import AnalyzeRequest, IncidentReport
from tests.agent.incidents.support import (
    FakeAnalyzer,
    fixture_body,
    make_report,
    running_app,
    running_notifier,
    settings_for,
    wait_for,
)

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def analysed_once(status: IncidentStatus = IncidentStatus.INVESTIGATING) -> Incident:
    report = make_report().model_copy(update={"created_at": NOW})
    return Incident(id=7, title="t", status=status, created_at=NOW, updated_at=NOW, reports=[report])


def test_follow_up_is_due_once_after_the_first_report_while_open() -> None:
    policy = followup.FollowUpPolicy(after_s=300)
    incident = analysed_once()
    assert followup.due_at(incident, policy) == NOW + timedelta(seconds=300)
    assert not followup.claim(incident, policy=policy, now=NOW + timedelta(seconds=299))
    assert followup.claim(incident, policy=policy, now=NOW + timedelta(seconds=300))
    assert [(p.kind, p.event) for p in incident.pending] == [("analyze", None), ("notify", "updated")]
    assert followup.due_at(incident, policy) is None  # claimed: never twice
    incident.pending = []
    assert followup.due_at(incident, policy) is None
    assert followup.due_at(analysed_once(status=IncidentStatus.MITIGATED), policy) is None
    assert followup.due_at(analysed_once(), followup.FollowUpPolicy(after_s=0)) is None
    twice = analysed_once()
    twice.reports.append(twice.reports[0])
    assert followup.due_at(twice, policy) is None  # analysed again already (a re-fire)


class CountingAnalyzer(FakeAnalyzer):
    """Each report says which analysis it was, and over which window."""

    async def analyze(self, request: AnalyzeRequest) -> IncidentReport:
        report = await super().analyze(request)
        n = len(self.requests)
        return report.model_copy(update={"diagnosis": f"analysis {n} over {request.window}"})


async def test_one_page_then_exactly_one_update_with_the_follow_up_analysis(redis_url, shared_fixtures) -> None:
    body = fixture_body(shared_fixtures, "firing-single.json")
    analyzer = CountingAnalyzer()
    with running_notifier() as notifier:
        settings = settings_for(redis_url, notifier.url, follow_up_analysis_s=1.0)
        async with running_app(settings, analyzer=analyzer) as (app, client):
            assert (await client.post("/alerts", json=body)).status_code == 202
            await wait_for(lambda: _events(notifier, 1))
            assert notifier.calls[0]["event"] == "opened" and "analysis 1" in notifier.calls[0]["summary"]

            await wait_for(lambda: _events(notifier, 2))
            # Alertmanager re-sends the unchanged group (repeat_interval), time passes: nothing more
            assert (await client.post("/alerts", json=body)).json()["duplicate"] is True
            await asyncio.sleep(2.5)
            incident = (await client.get("/incidents/1")).json()
    assert [c["event"] for c in notifier.sent] == ["opened", "updated"]
    assert "analysis 2" in notifier.sent[1]["summary"]
    assert len(analyzer.requests) == 2 and len(incident["reports"]) == 2
    assert incident["pending"] == [] and incident["followed_up_at"] is not None
    assert any("follow-up analysis" in e["message"] for e in incident["timeline"])


async def test_new_alerts_joining_run_the_follow_up_at_once(redis_url, shared_fixtures) -> None:
    first = fixture_body(shared_fixtures, "firing-single.json")
    joined = {**first, "alerts": [*first["alerts"], {**first["alerts"][0], "fingerprint": "f00d",
                                                     "labels": {**first["alerts"][0]["labels"], "alertname": "Other"}}]}
    analyzer = CountingAnalyzer()
    with running_notifier() as notifier:
        settings = settings_for(redis_url, notifier.url, follow_up_analysis_s=3600.0)
        async with running_app(settings, analyzer=analyzer) as (app, client):
            await client.post("/alerts", json=first)
            await wait_for(lambda: _events(notifier, 1))
            await client.post("/alerts", json=joined)
            await wait_for(lambda: _events(notifier, 2))
            await asyncio.sleep(1.0)
    assert [c["event"] for c in notifier.sent] == ["opened", "updated"]
    assert "analysis 2" in notifier.sent[1]["summary"] and len(analyzer.requests) == 2


async def _events(notifier, n: int) -> bool:  # type: ignore[no-untyped-def]
    return len(notifier.sent) >= n

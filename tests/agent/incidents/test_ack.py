"""Acknowledge: who has the incident. Pure rules (first ack kept, a second by someone else only on
the timeline, the owner again a no-op, RESOLVED refused), then the API on a real redis-server with
the fake notifier: POST /incidents/{id}/ack, and the next /notify body carries acknowledged_by/_at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent_service.incidents.ack import AckRefused, record_ack
from agent_service.incidents.handoff import rules_handoff
from agent_service.incidents.models import Incident, IncidentStatus
from agent_service.incidents.postmortem import render_postmortem
from agent_service.incidents.render import incident_markdown
from tests.agent.incidents.support import running_app, running_notifier, settings_for

T0 = datetime(2026, 3, 1, 14, 5, 10, tzinfo=UTC)


def _incident(**fields: object) -> Incident:
    values: dict[str, object] = {"id": 7, "title": "5xx on be_app", "severity": "critical", "created_at": T0,
                                 "updated_at": T0}
    return Incident(**{**values, **fields})  # type: ignore[arg-type]


def test_first_ack_is_kept_and_a_second_is_on_the_timeline() -> None:
    incident = _incident()
    assert record_ack(incident, by="alice", at=T0) is True
    later = T0 + timedelta(minutes=3)
    assert record_ack(incident, by="bob", at=later) is True
    assert (incident.acknowledged_by, incident.acknowledged_at) == ("alice", T0)
    assert [(e.kind, e.actor, e.message) for e in incident.timeline] == [
        ("acknowledged", "alice", "acknowledged by alice"),
        ("acknowledged", "bob", "bob acknowledged too (alice has it since 14:05:10 UTC)"),
    ]


def test_the_owner_acknowledging_again_changes_nothing() -> None:
    incident = _incident()
    record_ack(incident, by="alice", at=T0)
    assert record_ack(incident, by="alice", at=T0 + timedelta(seconds=5)) is False
    assert len(incident.timeline) == 1


def test_a_resolved_incident_cannot_be_acknowledged() -> None:
    incident = _incident(status=IncidentStatus.RESOLVED)
    with pytest.raises(AckRefused):
        record_ack(incident, by="alice", at=T0)
    assert incident.acknowledged_by is None


def test_ack_is_shown_in_markdown_handoff_and_postmortem() -> None:
    incident = _incident()
    record_ack(incident, by="alice_[x]", at=T0)
    assert "**Acknowledged by:** alice\\_\\[x\\] at 2026-03-01 14:05:10 UTC" in incident_markdown(incident)
    assert "alice_[x] has it (acknowledged" in rules_handoff(incident, now=T0).current_state
    assert "**Acknowledged by:** alice\\_\\[x\\]" in render_postmortem(incident)
    unacked = rules_handoff(_incident(), now=T0)
    assert "Nobody has acknowledged this incident yet." in unacked.open_questions


async def test_ack_api_keeps_the_first_and_the_next_notification_says_who(redis_url) -> None:
    with running_notifier() as notifier:
        settings = settings_for(redis_url, notifier.url, api_token="t0k")
        async with running_app(settings) as (_app, client):
            auth = {"Authorization": "Bearer t0k"}
            # Opened by a script (a system actor): not acknowledged by its creation.
            created = await client.post("/incidents", json={"title": "disk full", "severity": "critical",
                                                            "actor": "system:script"}, headers=auth)
            incident_id = created.json()["id"]
            assert created.json()["acknowledged_by"] is None
            assert (await client.post(f"/incidents/{incident_id}/ack", json={"by": "alice"})).status_code == 401
            first = await client.post(f"/incidents/{incident_id}/ack", json={"by": "alice"}, headers=auth)
            second = await client.post(f"/incidents/{incident_id}/ack", json={"by": "bob"}, headers=auth)
            bad = await client.post(f"/incidents/{incident_id}/ack", json={"by": "<b>"}, headers=auth)
            missing = await client.post("/incidents/999/ack", json={"by": "alice"}, headers=auth)
            resolved = await client.post(f"/incidents/{incident_id}/status", json={"status": "RESOLVED",
                                                                                   "actor": "bob"}, headers=auth)
            after = await client.post(f"/incidents/{incident_id}/ack", json={"by": "carol"}, headers=auth)
            listed = (await client.get("/incidents", headers=auth)).json()["incidents"]
    assert first.status_code == 200 and first.json()["acknowledged_by"] == "alice"
    assert second.json()["acknowledged_by"] == "alice"
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert [e["message"] for e in second.json()["timeline"] if e["kind"] == "acknowledged"][1].startswith(
        "bob acknowledged too (alice has it since")
    assert (bad.status_code, missing.status_code, after.status_code) == (422, 404, 409)
    assert resolved.json()["acknowledged_by"] == "alice"
    assert [(i["id"], i["acknowledged_by"]) for i in listed] == [(incident_id, "alice")]
    opened, done = notifier.sent
    assert "acknowledged_by" not in opened and "acknowledged_at" not in opened
    assert done["event"] == "resolved" and done["acknowledged_by"] == "alice"
    assert datetime.fromisoformat(done["acknowledged_at"]) == datetime.fromisoformat(first.json()["acknowledged_at"])
    assert "**Acknowledged by:** alice" in done["report_markdown"]


def test_the_notifier_accepts_the_agents_body_with_and_without_an_ack() -> None:
    """The two services' models of POST /notify agree (the notifier forbids unknown fields)."""
    from agent_service.notifier_client import NotifyRequest as AgentBody
    from notifier_service.models import NotifyRequest as NotifierBody

    plain = AgentBody(idempotency_key="k-1", incident_id=7, event="opened", severity="critical", title="t", summary="s")
    acked = plain.model_copy(update={"acknowledged_by": "slack:alice", "acknowledged_at": T0, "to": "lead@example.com"})
    assert "acknowledged_by" not in plain.body()
    parsed = NotifierBody.model_validate(acked.body())
    assert (parsed.acknowledged_by, parsed.to) == ("slack:alice", ["lead@example.com"])
    assert parsed.acknowledged_at == T0

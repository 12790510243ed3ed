"""Escalation: a critical incident nobody acknowledged is paged again to each ESCALATION_TO step
(`;` between steps), ESCALATE_AFTER_S after the previous page; an ack or resolution stops it; a
restart neither loses nor repeats a step. Pure rules first, then a real redis-server, the app's
lifespan and the fake notifier. Due steps are claimed with an explicit `now` (no sleeping)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from agent_service.incidents.escalation import EscalationPolicy, claim_step, due_at
from agent_service.incidents.models import Incident, IncidentStatus
from agent_service.keys import INCIDENTS_ESCALATION_DUE
from tests.agent.incidents.support import FakeAnalyzer, fixture_body, running_app, running_notifier, settings_for, wait_for

T0 = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
STEPS = "lead@example.com, sre2@example.com; head@example.com"
POLICY = EscalationPolicy.parse(STEPS, after_s=900)


def _incident(**fields: object) -> Incident:
    values: dict[str, object] = {"id": 3, "title": "5xx", "severity": "critical", "created_at": T0, "updated_at": T0}
    return Incident(**{**values, **fields})  # type: ignore[arg-type]


def test_steps_are_separated_by_semicolons_and_addresses_by_commas() -> None:
    assert POLICY.steps == (("lead@example.com", "sre2@example.com"), ("head@example.com",))
    assert not EscalationPolicy.parse(" ; ", after_s=900).enabled


def test_each_step_is_due_after_the_previous_page_and_claimed_once() -> None:
    incident = _incident()
    assert due_at(incident, POLICY) == T0 + timedelta(minutes=15)
    assert claim_step(incident, policy=POLICY, now=T0 + timedelta(minutes=14)) is None
    at = T0 + timedelta(minutes=15)
    assert claim_step(incident, policy=POLICY, now=at) == 1
    assert claim_step(incident, policy=POLICY, now=at) is None  # the same step is never claimed twice
    page = incident.pending[-1]
    assert (page.event, page.to, page.escalation_step) == ("opened", "lead@example.com,sre2@example.com", 1)
    assert incident.timeline[-1].message == ("escalation step 1/2: not acknowledged after 15 min, paging "
                                             "lead@example.com, sre2@example.com")
    assert due_at(incident, POLICY) == at + timedelta(minutes=15)
    assert claim_step(incident, policy=POLICY, now=at + timedelta(minutes=15)) == 2
    assert due_at(incident, POLICY) is None  # the list is exhausted


def test_ack_resolution_mitigation_or_a_lower_severity_stop_it() -> None:
    assert due_at(_incident(acknowledged_at=T0, acknowledged_by="alice"), POLICY) is None
    assert due_at(_incident(status=IncidentStatus.RESOLVED), POLICY) is None
    assert due_at(_incident(status=IncidentStatus.MITIGATED), POLICY) is None
    assert due_at(_incident(severity="warning"), POLICY) is None
    assert due_at(_incident(), EscalationPolicy()) is None  # ESCALATION_TO unset


def _critical_alert(shared_fixtures) -> dict:
    body = copy.deepcopy(fixture_body(shared_fixtures, "firing-single.json"))
    for labels in [body["commonLabels"], body["groupLabels"], *[a["labels"] for a in body["alerts"]]]:
        if "severity" in labels or labels is body["commonLabels"]:
            labels["severity"] = "critical"
    return body


async def _open_critical(app, client, shared_fixtures) -> dict:
    accepted = await client.post("/alerts", json=_critical_alert(shared_fixtures))
    incident_id = accepted.json()["incident_ids"][0]
    worker = app.state.agent.worker
    await worker.ensure_group()
    await worker.step(block=False)
    await worker.idle()
    incident = (await client.get(f"/incidents/{incident_id}")).json()
    assert incident["severity"] == "critical" and not incident["pending"]
    return incident


@asynccontextmanager
async def _escalating(redis_url: str, shared_fixtures, notifier: Any) -> AsyncIterator[Any]:
    """The app (worker driven by hand) with a critical incident opened from an alert."""
    settings = settings_for(redis_url, notifier.url, escalate_after_s=60, escalation_to=STEPS,
                            alert_worker_enabled=False)
    async with running_app(settings, analyzer=FakeAnalyzer()) as (app, client):
        incident = await _open_critical(app, client, shared_fixtures)
        yield SimpleNamespace(app=app, client=client, settings=settings, id=incident["id"],
                              service=app.state.agent.incidents, policy=app.state.agent.worker.escalation,
                              created=datetime.fromisoformat(incident["created_at"]))


async def test_escalation_pages_each_step_then_stops(redis_url, shared_fixtures) -> None:
    with running_notifier() as notifier:
        async with _escalating(redis_url, shared_fixtures, notifier) as run:
            service, policy, created = run.service, run.policy, run.created
            assert await service.escalate_due(policy, created + timedelta(seconds=59)) == []
            assert await service.escalate_due(policy, created + timedelta(seconds=61)) == [run.id]
            await service.drain(run.id)
            assert await service.escalate_due(policy, created + timedelta(seconds=100)) == []
            assert await service.escalate_due(policy, created + timedelta(seconds=122)) == [run.id]
            await service.drain(run.id)
            assert await service.escalate_due(policy, created + timedelta(days=1)) == []
            final = (await run.client.get(f"/incidents/{run.id}")).json()
            metrics = (await run.client.get("/prometheus/metrics")).text
    pages = [c for c in notifier.sent if c.get("to")]
    assert [(c["event"], c["to"]) for c in pages] == [
        ("opened", "lead@example.com,sre2@example.com"), ("opened", "head@example.com")]
    assert pages[0]["title"].startswith("[escalation 1] not acknowledged: ")
    assert [e["data"]["step"] for e in final["timeline"] if e["kind"] == "escalated"] == [1, 2]
    assert final["escalation_step"] == 2
    assert 'oncall_incident_escalations_total{step="2"} 1.0' in metrics


async def test_an_ack_stops_escalation_even_a_step_already_claimed(redis_url, shared_fixtures) -> None:
    with running_notifier() as notifier:
        async with _escalating(redis_url, shared_fixtures, notifier) as run:
            redis = run.app.state.agent.redis
            assert await redis.zscore(INCIDENTS_ESCALATION_DUE, str(run.id)) is not None
            assert await run.service.escalate_due(run.policy, run.created + timedelta(seconds=61)) == [run.id]
            # Step 1 is claimed (its page pending) when alice acknowledges: the page is not sent.
            await run.service.acknowledge(run.id, "alice")
            await run.service.drain(run.id)
            assert await run.service.escalate_due(run.policy, run.created + timedelta(days=1)) == []
            assert await redis.zscore(INCIDENTS_ESCALATION_DUE, str(run.id)) is None
            final = (await run.client.get(f"/incidents/{run.id}")).json()
    assert [c for c in notifier.calls if c.get("to")] == []
    skipped = [e["message"] for e in final["timeline"] if e["kind"] == "notification_skipped"]
    assert skipped == ["escalation step 1 not sent: acknowledged by alice meanwhile"]
    assert not final["pending"]


async def test_a_restart_between_claim_and_page_neither_loses_nor_repeats_the_step(redis_url, shared_fixtures) -> None:
    with running_notifier() as notifier:
        async with _escalating(redis_url, shared_fixtures, notifier) as run:
            at = run.created + timedelta(seconds=61)
            assert await run.service.escalate_due(run.policy, at) == [run.id]
        # Stopped after the claim, before its page was sent. A new process on the same Redis:
        async with running_app(run.settings, analyzer=FakeAnalyzer()) as (app, _client):
            service, worker = app.state.agent.incidents, app.state.agent.worker
            assert await service.escalate_due(worker.escalation, at) == []  # step 1 is not claimed again
            worker._last_housekeeping = 0.0
            await worker.housekeeping()  # resumes the pending page like any pending action
            await worker.idle()
            assert await service.escalate_due(worker.escalation, at + timedelta(seconds=61)) == [run.id]
            await service.drain(run.id)
    pages = [(c["to"], c["idempotency_key"]) for c in notifier.calls if c.get("to")]
    assert [to for to, _ in pages] == ["lead@example.com,sre2@example.com", "head@example.com"]
    assert len({key for _, key in pages}) == 2


async def test_the_running_worker_escalates_on_its_own_with_a_small_escalate_after_s(redis_url, shared_fixtures) -> None:
    with running_notifier() as notifier:
        settings = settings_for(redis_url, notifier.url, escalate_after_s=0.3, escalation_to="lead@example.com")
        async with running_app(settings, analyzer=FakeAnalyzer()) as (_app, client):
            accepted = await client.post("/alerts", json=_critical_alert(shared_fixtures))
            incident_id = accepted.json()["incident_ids"][0]

            async def paged():
                body = (await client.get(f"/incidents/{incident_id}")).json()
                sent = any(e["kind"] == "notification_sent" and "escalation" in e["data"]["idempotency_key"]
                           for e in body.get("timeline", []))
                return body if sent else None

            final = await wait_for(paged)
    assert final["escalation_step"] == 1 and final["acknowledged_by"] is None
    assert [c["to"] for c in notifier.sent if c.get("to")] == ["lead@example.com"]


def test_a_malformed_escalation_list_fails_at_start_up() -> None:
    with pytest.raises(ValidationError, match="ESCALATION_TO"):
        settings_for("redis://127.0.0.1:9/0", "", escalation_to="lead@example.com; not an address")

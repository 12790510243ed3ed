"""A notification the notifier could not take is kept and retried with backoff, not lost: real
redis-server, the agent app with its alert worker, a fake notifier on loopback (down = port closed,
then up on the same port; 503 then 202; 400 = final at once). Plus the pure retry rules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from agent_service.incidents.models import Incident, IncidentStatus, PendingAction
from agent_service.incidents.notify_retry import RetryPolicy, next_action, retry_at, schedule
from agent_service.keys import INCIDENTS_RETRY_AT as RETRY_AT
from tests.agent.incidents.support import FakeNotifier, running_app, settings_for, wait_for
from tests.support.net import free_port
from tests.support.servers import serve_app

AUTH = {"Authorization": "Bearer api-secret"}
FAST = {"api_token": "api-secret", "notifier_attempts": 1, "notifier_timeout_s": 2,
        "notify_retry_base_s": 0.2, "notify_retry_max_s": 0.4}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _kinds(incident: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in incident["timeline"]]


def _counter(metrics: str, event: str, outcome: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(f'oncall_incident_notifications_total{{event="{event}",outcome="{outcome}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def _settled(client: httpx.AsyncClient, incident_id: int = 1, timeout: float = 15.0) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        body = (await client.get(f"/incidents/{incident_id}", headers=AUTH)).json()
        return body if not body["pending"] else None

    return await wait_for(done, timeout=timeout)


# --- on a real redis-server, with the worker --------------------------------------------------

async def test_notifier_down_then_up_the_pages_go_once_in_order(redis_url) -> None:
    port = free_port()  # nothing listens yet: connection refused
    fake = FakeNotifier()
    settings = settings_for(redis_url, f"http://127.0.0.1:{port}", **FAST)
    async with running_app(settings) as (app, client):
        created = (await client.post("/incidents", headers=AUTH, json={"title": "checkout down"})).json()
        assert _kinds(created).count("notification_retrying") == 1 and created["pending"]
        mitigated = await client.post("/incidents/1/status", headers=AUTH, json={"status": "MITIGATED"})
        assert mitigated.status_code == 200
        await asyncio.sleep(2.5)  # several retries while down (the worker checks about every second)
        down = (await client.get("/incidents/1", headers=AUTH)).json()
        assert [p["event"] for p in down["pending"]] == ["opened", "mitigated"], down["pending"]
        assert down["pending"][0]["failures"] >= 2, down["pending"]
        assert down["pending"][1]["failures"] == 0, "mitigated waits behind opened, not tried"
        assert await app.state.agent.redis.zscore(RETRY_AT, "1") is not None
        with serve_app(fake.app, port=port):
            incident = await _settled(client)
        metrics = (await client.get("/prometheus/metrics")).text
        indexed = await app.state.agent.redis.zscore(RETRY_AT, "1")
    kinds = _kinds(incident)
    assert [c["event"] for c in fake.calls] == ["opened", "mitigated"], "opened first, each once"
    assert kinds.count("notification_retrying") == 1, "one timeline entry per failure streak"
    assert kinds.count("notification_sent") == 2 and "notification_failed" not in kinds
    opened = next(e for e in incident["timeline"] if e["kind"] == "notification_sent")
    assert opened["data"]["event"] == "opened" and opened["data"]["attempts"] >= 3, opened
    assert f"after {opened['data']['attempts']} attempts" in opened["message"]
    assert _counter(metrics, "opened", "retrying") == opened["data"]["attempts"] - 1
    assert _counter(metrics, "opened", "ok") == 1
    assert indexed is None, "nothing left to retry"


async def test_a_503_is_retried_and_the_202_that_follows_sends_it(redis_url) -> None:
    fake = FakeNotifier(fail_status=503, fail_first=2)
    with serve_app(fake.app) as url:
        async with running_app(settings_for(redis_url, url, **FAST)) as (_app, client):
            created = (await client.post("/incidents", headers=AUTH, json={"title": "x"})).json()
            retrying = [e for e in created["timeline"] if e["kind"] == "notification_retrying"]
            assert len(retrying) == 1 and "503" in retrying[0]["message"]
            incident = await _settled(client)
            metrics = (await client.get("/prometheus/metrics")).text
    assert fake.received == 3 and [c["event"] for c in fake.calls] == ["opened"]
    assert _kinds(incident).count("notification_retrying") == 1
    assert "after 3 attempts" in incident["timeline"][-1]["message"]
    assert _counter(metrics, "opened", "retrying") == 2 and _counter(metrics, "opened", "ok") == 1


async def test_a_400_fails_at_once_and_is_not_retried(redis_url) -> None:
    fake = FakeNotifier(fail_status=400)
    with serve_app(fake.app) as url:
        settings = settings_for(redis_url, url, **{**FAST, "notifier_attempts": 3})
        async with running_app(settings) as (_app, client):
            created = (await client.post("/incidents", headers=AUTH, json={"title": "x"})).json()
            await asyncio.sleep(1.5)  # the worker would have retried by now
            later = (await client.get("/incidents/1", headers=AUTH)).json()
            metrics = (await client.get("/prometheus/metrics")).text
    failed = [e for e in created["timeline"] if e["kind"] == "notification_failed"]
    assert len(failed) == 1 and "400" in failed[0]["message"] and failed[0]["data"]["retryable"] is False
    assert created["pending"] == [] and later["timeline"] == created["timeline"]
    assert "notification_retrying" not in _kinds(later)
    assert fake.received == 1, "neither the client nor the worker tried again"
    assert _counter(metrics, "opened", "failed") == 1 and _counter(metrics, "opened", "retrying") == 0


async def test_after_the_give_up_horizon_the_failure_is_recorded_with_its_reason(redis_url) -> None:
    settings = settings_for(redis_url, f"http://127.0.0.1:{free_port()}", **{**FAST, "notify_give_up_s": 1.0})
    async with running_app(settings) as (_app, client):
        await client.post("/incidents", headers=AUTH, json={"title": "x"})
        incident = await _settled(client)
        metrics = (await client.get("/prometheus/metrics")).text
    kinds = _kinds(incident)
    assert kinds.count("notification_retrying") == 1 and kinds.count("notification_failed") == 1
    failed = incident["timeline"][-1]
    assert failed["kind"] == "notification_failed" and "gave up after" in failed["message"]
    assert "notifier unreachable" in failed["data"]["reason"] and failed["data"]["attempts"] >= 2
    assert _counter(metrics, "opened", "failed") == 1


# --- the rules, pure ----------------------------------------------------------------------------

def _incident(*pending: PendingAction, status: IncidentStatus = IncidentStatus.OPEN) -> Incident:
    return Incident(id=1, title="t", status=status, created_at=T0, updated_at=T0, pending=list(pending))


def _notify(event: str, next_try_at: datetime | None = None) -> PendingAction:
    return PendingAction(kind="notify", event=event, key=f"k-{event}", next_try_at=next_try_at)  # type: ignore[arg-type]


def test_backoff_doubles_up_to_its_cap_and_the_horizon_counts_from_the_first_failure() -> None:
    policy = RetryPolicy(base_s=5, max_s=300, give_up_s=6 * 3600)
    assert [policy.delay_s(n) for n in (1, 2, 3, 7, 8, 1000)] == [5, 10, 20, 300, 300, 300]
    action = _notify("opened")
    for minute in range(3):
        action = schedule(action, error="down", now=T0 + timedelta(minutes=minute), policy=policy)
    assert action.failures == 3 and action.first_failed_at == T0
    assert action.next_try_at == T0 + timedelta(minutes=2, seconds=20)
    assert not policy.gives_up(T0, T0 + timedelta(hours=5, minutes=59))
    assert policy.gives_up(T0, T0 + timedelta(hours=6))


def test_later_notifications_wait_behind_a_backing_off_one_but_analyses_do_not() -> None:
    later = T0 + timedelta(seconds=30)
    opened, mitigated = _notify("opened", next_try_at=later), _notify("mitigated")
    analyze = PendingAction(kind="analyze", key="k-analyze")
    assert next_action(_incident(opened, mitigated), T0) is None
    assert next_action(_incident(opened, analyze, mitigated), T0) == analyze
    assert next_action(_incident(opened, mitigated), later) == opened
    assert retry_at(_incident(opened, mitigated)) == later
    assert retry_at(_incident(_notify("opened"), analyze)) is None


def test_an_opened_overtaken_by_resolved_is_dropped_at_once_not_after_its_backoff() -> None:
    opened = _notify("opened", next_try_at=T0 + timedelta(minutes=5))
    resolved = _incident(opened, _notify("resolved"), status=IncidentStatus.RESOLVED)
    assert next_action(resolved, T0) == opened  # carried out now: event_to_send skips it

"""Remediation proposals on the console's incident page over HTTP on a real redis-server: a
responder approves (a dry run by default: the exact command shown, nothing sent), the timeline
says who; a viewer sees no buttons and is refused 403; a POST without CSRF is 403; an expired or
already-decided proposal answers 409 with the reason, an unknown one 404 — never a 500."""

from __future__ import annotations

from functools import partial
from typing import Any

import redis.asyncio as aioredis

from agent_service.console.roles import Role
from agent_service.incidents.lifecycle import now_utc
from agent_service.incidents.store import IncidentStore
from agent_service.remediation.lifecycle import refresh
from agent_service.remediation.models import DrainServer, Escalate, Risk
from tests.agent.console.support import on_incident, post_form
from tests.agent.incidents.support import make_report
from tests.support.net import free_port

HOSTILE = '<script>alert("x")</script>'


def _report(report_id: str = "rep-console") -> dict[str, Any]:
    drain = DrainServer(backend="be_app", server="app3", evidence=[f"app3 refuses 83% of its requests {HOSTILE}"],
                        risk=Risk(level="low", why="two healthy peers take its share"))
    escalate = Escalate(to="payments on-call", why="the provider is down")
    return make_report().model_copy(update={"id": report_id, "proposals": [drain, escalate]}).model_dump(mode="json")


def _with_runtime() -> dict[str, Any]:
    return {"haproxy_runtime_sockets": f"tcp:127.0.0.1:{free_port()}"}  # nothing listens: a dry run never connects


async def test_a_responder_approves_and_the_dry_run_command_is_shown(redis_url: str) -> None:
    async with on_incident(redis_url, "alice", Role.responder, settings=_with_runtime(), title="checkout 5xx",
                           report=_report()) as (client, page):
        incident_id = page.rsplit("/", 1)[1]
        before = (await client.get(page)).text
        approved = await post_form(client, f"{page}/proposals/p1/approve", {}, page=page)
        rejected = await post_form(client, f"{page}/proposals/p2/reject", {"reason": "not yet"}, page=page)
        again = await post_form(client, f"{page}/proposals/p1/approve", {}, page=page)
        unknown = await post_form(client, f"{page}/proposals/p9/approve", {}, page=page)
        nothing = await post_form(client, "/console/incidents/999999/proposals/p1/approve", {}, page=page)
        undo = await post_form(client, f"{page}/proposals/p1/undo", {}, page=page)
        after = (await client.get(page)).text
        incident = (await client.get(f"/incidents/{incident_id}")).json()
    assert "Proposed actions" in before and 'id="approve-p1"' in before and 'id="reject-p2"' in before
    assert HOSTILE not in before and "&lt;script&gt;" in before
    assert approved.status_code == 303 and approved.headers["location"].startswith(page)
    assert rejected.status_code == 303
    records = {r["id"]: r for r in incident["proposals"]}
    assert records["p1"]["state"] == "dry_run" and records["p1"]["decided_by"] == "console:alice"
    assert records["p2"]["state"] == "rejected" and records["p2"]["reason"] == "not yet"
    mine = [e["kind"] for e in incident["timeline"] if e["actor"] == "console:alice"]
    assert mine == ["proposal_approved", "proposal_rejected"]
    assert any(e["kind"] == "proposal_executed" and "would send: set server be_app/app3 state drain" in e["message"]
               for e in incident["timeline"])
    assert again.status_code == 409 and "dry_run" in again.text and "cannot be approved" in again.text
    assert unknown.status_code == 404 and "no proposal p9" in unknown.text
    assert nothing.status_code == 404 and "incident 999999 not found" in nothing.text
    assert undo.status_code == 409 and "only an executed proposal can be undone" in undo.text
    assert "set server be_app/app3 state drain" in after and "dry run" in after
    assert "approved by console:alice" in after and "rejected by console:alice" in after and "not yet" in after
    assert 'id="approve-p1"' not in after and 'id="undo-p1"' not in after  # decided; a dry run has nothing to undo


async def test_a_viewer_sees_the_proposals_but_no_buttons_and_is_refused_403(redis_url: str) -> None:
    async with on_incident(redis_url, "victor", Role.viewer, title="t", report=_report()) as (client, page):
        shown = (await client.get(page)).text
        refused = await post_form(client, f"{page}/proposals/p1/approve", {}, page=page)
        incident = (await client.get(f"/incidents/{page.rsplit('/', 1)[1]}")).json()
    assert "Proposed actions" in shown and "be_app/app3" in shown and "approve-p1" not in shown
    assert refused.status_code == 403 and "responder" in refused.text
    assert incident["proposals"][0]["state"] == "pending"


async def test_a_post_without_csrf_is_403(redis_url: str) -> None:
    async with on_incident(redis_url, "alice", Role.responder, title="t", report=_report()) as (client, page):
        refused = await client.post(f"{page}/proposals/p1/approve", data={"reason": "no token"})
        wrong = await client.post(f"{page}/proposals/p1/approve", data={"csrf": "forged"})
        incident = (await client.get(f"/incidents/{page.rsplit('/', 1)[1]}")).json()
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert wrong.status_code == 403 and "CSRF" in wrong.text
    assert incident["proposals"][0]["state"] == "pending"


async def test_approving_an_expired_proposal_shows_why(redis_url: str) -> None:
    async with on_incident(redis_url, "alice", Role.responder, title="t", report=_report()) as (client, page):
        incident_id = int(page.rsplit("/", 1)[1])
        redis = aioredis.Redis.from_url(redis_url)
        try:
            newer = make_report().model_copy(update={"id": "rep-newer", "proposals": []})
            await IncidentStore(redis).update(incident_id, partial(refresh, report=newer, at=now_utc()))
        finally:
            await redis.aclose()
        shown = (await client.get(page)).text
        refused = await post_form(client, f"{page}/proposals/p1/approve", {}, page=page)
    assert "expired" in shown and "approve-p1" not in shown
    assert refused.status_code == 409
    assert "expired" in refused.text and "the facts changed: report rep-newer replaced" in refused.text

"""Approval through the API on the real app (real redis-server, rules engine): an analysis proposes,
its incident holds the proposals; nothing executes before an approval; approving a runtime action
is a dry run by default (the exact command shown, no socket touched); decisions and results are on
the timeline; a newer report expires the pending ones (409 with the reason); bad input is a 4xx."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial
from typing import Any

from agent_service.incidents.outcomes import AnalysisOutcome, record_analysis
from agent_service.models import IncidentReport
from agent_service.remediation.models import AnyProposal, Rollback
from tests.agent.incidents.support import settings_for
from tests.agent.remediation.support import TOKEN, agent, incident_from_analysis, one_bad_server
from tests.support.net import free_port

BREAKDOWN = one_bad_server("be_pay", "r3", ("r1", "r2"))


def _settings(redis_url: str, notifier_url: str, **kw: Any):
    return settings_for(redis_url, notifier_url, api_token=TOKEN, **kw)


async def test_the_analysis_proposes_and_an_approval_is_a_dry_run_by_default(redis_url, notifier) -> None:
    nobody = free_port()  # nothing listens there: a dry run must not connect
    async with agent(_settings(redis_url, notifier.url, haproxy_runtime_sockets=f"tcp:127.0.0.1:{nobody}"),
                     BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client)
        (drain,) = [p for p in incident["reports"][0]["proposals"] if p["type"] == "drain_server"]
        assert (drain["backend"], drain["server"], drain["executable_here"]) == ("be_pay", "r3", True)
        (record,) = [r for r in incident["proposals"] if r["proposal"]["type"] == "drain_server"]
        assert record["state"] == "pending" and record["execution"] is None
        base = f"/incidents/{incident['id']}/proposals"
        listed = await client.get(base)
        unauthorised = await client.post(f"{base}/{record['id']}/approve", json={"by": "alice"},
                                         headers={"Authorization": "Bearer wrong"})
        approved = await client.post(f"{base}/{record['id']}/approve", json={"by": "alice"})
        again = await client.post(f"{base}/{record['id']}/approve", json={"by": "bob"})
        undo = await client.post(f"{base}/{record['id']}/undo", json={"by": "alice"})
        timeline = (await client.get(f"/incidents/{incident['id']}")).json()["timeline"]
        handoff = (await client.get(f"/incidents/{incident['id']}/handoff")).json()
    assert listed.status_code == 200 and listed.json()["execute"] is False
    assert any("approved by alice" in line for line in handoff["what_was_tried"])
    assert [r["id"] for r in listed.json()["proposals"]] == [r["id"] for r in incident["proposals"]]
    assert unauthorised.status_code == 403
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["state"] == "dry_run" and body["decided_by"] == "alice"
    assert body["execution"]["dry_run"] is True
    assert [s["command"] for s in body["execution"]["steps"]] == ["set server be_pay/r3 state drain"]
    assert again.status_code == 409 and "dry_run" in again.json()["detail"]
    assert undo.status_code == 409
    kinds = [e["kind"] for e in timeline]
    assert kinds.index("proposals_made") < kinds.index("proposal_approved") < kinds.index("proposal_executed")
    executed = next(e for e in timeline if e["kind"] == "proposal_executed")
    assert "would send: set server be_pay/r3 state drain" in executed["message"]


async def test_a_newer_report_expires_the_pending_proposals(redis_url, notifier) -> None:
    async with agent(_settings(redis_url, notifier.url), BREAKDOWN) as (app, client):
        incident = await incident_from_analysis(client)
        first = incident["proposals"][0]["id"]
        newer = IncidentReport.model_validate({**incident["reports"][0], "id": "newer-report"})
        outcome = AnalysisOutcome(key="analyze-2", at=datetime.now(UTC), report=newer, error="")
        await app.state.agent.store.update(incident["id"], partial(record_analysis, outcome=outcome))
        approved = await client.post(f"/incidents/{incident['id']}/proposals/{first}/approve", json={"by": "alice"})
        listed = (await client.get(f"/incidents/{incident['id']}/proposals")).json()["proposals"]
    assert approved.status_code == 409
    assert "expired" in approved.json()["detail"] and "the facts changed" in approved.json()["detail"]
    states = {r["id"]: (r["state"], r["report_id"]) for r in listed}
    assert states[first] == ("expired", incident["reports"][0]["id"])
    assert [s for s in states.values() if s[0] == "pending"] == [("pending", "newer-report")] * len(incident["proposals"])


async def test_reject_records_who_and_why_and_nothing_runs(redis_url, notifier) -> None:
    nobody = free_port()
    async with agent(_settings(redis_url, notifier.url, haproxy_runtime_sockets=f"tcp:127.0.0.1:{nobody}",
                               remediation_execute=True), BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client)
        pid = incident["proposals"][0]["id"]
        rejected = await client.post(f"/incidents/{incident['id']}/proposals/{pid}/reject",
                                     json={"actor": "bob", "reason": "r3 is being replaced anyway"})
        approve_after = await client.post(f"/incidents/{incident['id']}/proposals/{pid}/approve", json={"by": "alice"})
        timeline = (await client.get(f"/incidents/{incident['id']}")).json()["timeline"]
    assert rejected.status_code == 200
    assert (rejected.json()["state"], rejected.json()["decided_by"]) == ("rejected", "bob")
    assert rejected.json()["execution"] is None
    assert approve_after.status_code == 409
    (event,) = [e for e in timeline if e["kind"] == "proposal_rejected"]
    assert "bob" in event["message"] and "replaced anyway" in event["message"]
    assert not [e for e in timeline if e["kind"] in ("proposal_executed", "proposal_failed")]


async def test_bad_requests_are_clear_4xx(redis_url, notifier) -> None:
    async with agent(_settings(redis_url, notifier.url), BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client)
        base = f"/incidents/{incident['id']}/proposals"
        answers = {
            "unknown pid": await client.post(f"{base}/p999/approve", json={"by": "a"}),
            "bad pid": await client.post(f"{base}/drop-tables/approve", json={"by": "a"}),
            "unknown incident": await client.post("/incidents/987654/proposals/p1/approve", json={"by": "a"}),
            "unknown incident list": await client.get("/incidents/987654/proposals"),
            "extra field": await client.post(f"{base}/p1/approve", json={"by": "a", "execute": True}),
            "bad actor": await client.post(f"{base}/p1/approve", json={"by": "a\nb"}),
            "not json": await client.post(f"{base}/p1/approve", content=b"{", headers={"Content-Type": "application/json"}),
        }
    codes = {name: a.status_code for name, a in answers.items()}
    assert codes == {"unknown pid": 404, "bad pid": 422, "unknown incident": 404, "unknown incident list": 404,
                     "extra field": 422, "bad actor": 422, "not json": 422}


class FakeFiler:
    def __init__(self) -> None:
        self.prs: list[tuple[str, int, str]] = []

    async def file_issue(self, incident_id: int, title: str, body_markdown: str, labels: list[str]) -> str:
        return f"https://github.test/issues/{incident_id}"

    async def open_draft_pr(self, proposal: AnyProposal, incident_id: int, title: str, body: str) -> str | None:
        self.prs.append((proposal.type, incident_id, title))
        return "https://github.test/pull/7"


async def test_an_approved_rollback_goes_to_the_change_filer_and_its_link_to_the_timeline(redis_url, notifier) -> None:
    filer = FakeFiler()
    rollback = Rollback(backend="be_pay", from_version="v2.3.1", to_version="v2.3.0", evidence=["deploy v2.3.1 at 13:51"])
    async with agent(_settings(redis_url, notifier.url), BREAKDOWN, change_filer=filer) as (_, client):
        incident = await incident_from_analysis(client, proposals=[rollback.model_dump(mode="json")])
        pid = incident["proposals"][0]["id"]
        approved = await client.post(f"/incidents/{incident['id']}/proposals/{pid}/approve", json={"by": "alice"})
        timeline = (await client.get(f"/incidents/{incident['id']}")).json()["timeline"]
    assert approved.status_code == 200
    assert approved.json()["state"] == "approved"
    assert approved.json()["links"] == [f"https://github.test/issues/{incident['id']}", "https://github.test/pull/7"]
    assert filer.prs == [("rollback", incident["id"], f"Incident #{incident['id']}: rollback be_pay v2.3.1 → v2.3.0")]
    assert any("https://github.test/pull/7" in e["message"] for e in timeline)


async def test_two_approvals_at_once_execute_once(redis_url, notifier) -> None:
    nobody = free_port()
    async with agent(_settings(redis_url, notifier.url, haproxy_runtime_sockets=f"tcp:127.0.0.1:{nobody}"),
                     BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client)
        url = f"/incidents/{incident['id']}/proposals/{incident['proposals'][0]['id']}/approve"
        answers = await asyncio.gather(*(client.post(url, json={"by": who}) for who in ("alice", "bob", "carol")))
        timeline = (await client.get(f"/incidents/{incident['id']}")).json()["timeline"]
    assert sorted(a.status_code for a in answers) == [200, 409, 409]
    assert [e["kind"] for e in timeline].count("proposal_approved") == 1
    assert [e["kind"] for e in timeline].count("proposal_executed") == 1


async def test_the_page_carries_the_pending_proposals_for_the_chats(redis_url, notifier) -> None:
    async with agent(_settings(redis_url, notifier.url), BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client)
        for _ in range(100):
            if notifier.sent:
                break
            await asyncio.sleep(0.05)
    [page] = [c for c in notifier.sent if c["event"] == "opened"]
    pids = [r["id"] for r in incident["proposals"] if r["state"] == "pending"]
    assert pids and [p["id"] for p in page["proposals"]] == pids
    drain = next(p for p in page["proposals"] if p["summary"].startswith("drain"))
    assert "be_pay" in drain["summary"] and "r3" in drain["summary"] and drain["risk"] in ("low", "medium", "high")

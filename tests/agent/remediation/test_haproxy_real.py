"""Execution against the real /usr/sbin/haproxy (Runtime API on `stats socket ipv4@127.0.0.1:PORT
level admin`, a backend of three loopback servers counting their requests), through the API: after
approval the drained server receives no new request and undo brings its traffic back; a weight and
a maxconn are set and restored to the values read before; a dead socket or HAProxy's refusal is a
failed execution with the reason on the timeline, never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_service.remediation.haproxy import RuntimeClient, parse_sockets
from agent_service.remediation.models import SetMaxconn, SetServerWeight
from tests.agent.incidents.support import settings_for
from tests.agent.remediation.haproxy_pool import Pool, haproxy_pool
from tests.agent.remediation.support import TOKEN, agent, incident_from_analysis, one_bad_server
from tests.support.net import free_port

pytestmark = pytest.mark.real
BREAKDOWN = one_bad_server("be_app", "s2", ("s1", "s3"))


@pytest.fixture
def pool(tmp_path: Path):
    with haproxy_pool(tmp_path) as running:
        yield running


def _settings(redis_url: str, notifier_url: str, socket: str):
    return settings_for(redis_url, notifier_url, api_token=TOKEN, remediation_execute=True,
                        haproxy_runtime_sockets=socket)


async def _ask(pool: Pool, command: str) -> str:
    client = RuntimeClient(parse_sockets(f"tcp:127.0.0.1:{pool.admin_port}"))
    return (await client.send(client.sockets[0], command)).strip()


async def test_a_drained_server_gets_no_new_request_and_undo_brings_its_traffic_back(redis_url, notifier, pool) -> None:
    socket = f"lb1=tcp:127.0.0.1:{pool.admin_port}"
    async with agent(_settings(redis_url, notifier.url, socket), BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client)
        (record,) = [r for r in incident["proposals"] if r["proposal"]["type"] == "drain_server"]
        assert record["proposal"]["server"] == "s2"
        pool.get(30)
        assert pool.hits["s2"] > 0  # before any approval s2 takes its share
        pool.hits.clear()
        base = f"/incidents/{incident['id']}/proposals/{record['id']}"
        approved = await client.post(f"{base}/approve", json={"by": "alice"})
        pool.get(30)
        during = dict(pool.hits)
        pool.hits.clear()
        undone = await client.post(f"{base}/undo", json={"by": "alice"})
        pool.get(30)
        after = dict(pool.hits)
        timeline = (await client.get(f"/incidents/{incident['id']}")).json()["timeline"]
    assert approved.status_code == 200, approved.text
    (step,) = approved.json()["execution"]["steps"]
    assert approved.json()["state"] == "executed"
    assert (step["socket"], step["command"], step["previous"], step["undo_command"]) == (
        socket, "set server be_app/s2 state drain", "ready", "set server be_app/s2 state ready")
    assert during.get("s2", 0) == 0 and during.get("s1", 0) + during.get("s3", 0) == 30
    assert undone.status_code == 200 and undone.json()["state"] == "undone"
    assert after.get("s2", 0) > 0
    kinds = [e["kind"] for e in timeline]
    assert kinds.index("proposal_approved") < kinds.index("proposal_executed") < kinds.index("proposal_undone")


async def test_weight_and_maxconn_are_set_and_restored(redis_url, notifier, pool) -> None:
    proposals = [SetServerWeight(backend="be_app", server="s1", weight=3).model_dump(mode="json"),
                 SetMaxconn(backend="be_app", server="s3", maxconn=7).model_dump(mode="json")]
    async with agent(_settings(redis_url, notifier.url, f"tcp:127.0.0.1:{pool.admin_port}"), BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client, proposals=proposals)
        weight, maxconn = (f"/incidents/{incident['id']}/proposals/{r['id']}" for r in incident["proposals"])
        w = await client.post(f"{weight}/approve", json={"by": "alice"})
        m = await client.post(f"{maxconn}/approve", json={"by": "alice"})
        set_weight, set_stat = await _ask(pool, "get weight be_app/s1"), await _ask(pool, "show stat be_app 4 -1")
        await client.post(f"{weight}/undo", json={"by": "alice"})
        await client.post(f"{maxconn}/undo", json={"by": "alice"})
        back_weight, back_stat = await _ask(pool, "get weight be_app/s1"), await _ask(pool, "show stat be_app 4 -1")
    assert (w.json()["state"], m.json()["state"]) == ("executed", "executed")
    assert w.json()["execution"]["steps"][0]["previous"] == "10"
    assert m.json()["execution"]["steps"][0]["undo_command"] == "set maxconn server be_app/s3 50"
    assert set_weight.startswith("3 ") and back_weight.startswith("10 ")
    assert ",s3,0,0,0,0,7," in set_stat and ",s3,0,0,0,0,50," in back_stat


async def test_a_dead_socket_or_a_refusal_is_a_failed_execution_with_its_reason(redis_url, notifier, pool) -> None:
    dead = f"tcp:127.0.0.1:{free_port()}"
    async with agent(_settings(redis_url, notifier.url, dead), BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client)
        pid = incident["proposals"][0]["id"]
        failed = await client.post(f"/incidents/{incident['id']}/proposals/{pid}/approve", json={"by": "alice"})
        timeline = (await client.get(f"/incidents/{incident['id']}")).json()["timeline"]
    assert failed.status_code == 200
    assert failed.json()["state"] == "failed" and "ConnectionRefusedError" in failed.json()["execution"]["error"]
    assert any(e["kind"] == "proposal_failed" and "ConnectionRefusedError" in e["message"] for e in timeline)
    unknown = [SetServerWeight(backend="be_app", server="s9", weight=1).model_dump(mode="json")]
    async with agent(_settings(redis_url, notifier.url, f"tcp:127.0.0.1:{pool.admin_port}"),
                     one_bad_server("be_app", "s9", ("s1", "s3"))) as (_, client):
        incident = await incident_from_analysis(client, proposals=unknown)
        pid = incident["proposals"][0]["id"]
        refused = await client.post(f"/incidents/{incident['id']}/proposals/{pid}/approve", json={"by": "alice"})
    assert refused.status_code == 200
    assert refused.json()["state"] == "failed" and "No such server" in refused.json()["execution"]["error"]

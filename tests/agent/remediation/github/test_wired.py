"""The agent with GITHUB_TOKEN/GITHUB_REPO/GITHUB_API_URL set, against the fake GitHub REST API:
an approved rollback files the incident's issue (its report) and a draft revert PR; an approved
drain with GITHUB_HAPROXY_CONFIG_PATH a draft PR disabling that server line. Both in the timeline."""

from __future__ import annotations

from typing import Any

from agent_service.remediation.models import DrainServer, Rollback
from tests.agent.remediation.test_api import _settings as remediation_settings
from tests.agent.remediation.github.helpers import CONFIG, changed_lines
from tests.agent.remediation.support import agent, incident_from_analysis
from tests.fakes.github_api import FakeGitHub

BREAKDOWN: dict[str, Any] = {"scopes": []}


def _settings(redis_url: str, notifier_url: str, github: FakeGitHub, **kw: Any):
    return remediation_settings(redis_url, notifier_url, github_token=github.token, github_repo=github.full_name,
                                github_api_url=github.url, **kw)


async def test_an_approved_rollback_files_the_issue_and_a_draft_revert_pr(redis_url, notifier, github) -> None:
    github.commit_files("main", {"app/pool.py": "POOL = 10\n"}, "initial")
    deploy = github.commit_files("main", {"app/pool.py": "POOL = 1\n"}, "shrink the pool")
    rollback = Rollback(backend="be_pay", from_version=deploy[:7], to_version="v2.3.0", commit=deploy,
                        evidence=["deploy at 13:51"])
    async with agent(_settings(redis_url, notifier.url, github), BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client, proposals=[rollback.model_dump(mode="json")])
        pid = incident["proposals"][0]["id"]
        approved = await client.post(f"/incidents/{incident['id']}/proposals/{pid}/approve", json={"by": "alice"})
        again = await client.post(f"/incidents/{incident['id']}/proposals/{pid}/approve", json={"by": "bob"})
        timeline = (await client.get(f"/incidents/{incident['id']}")).json()["timeline"]
    assert approved.status_code == 200 and again.status_code == 409
    issue_url, pr_url = approved.json()["links"]
    [number] = [n for n in github.repo.issues if n not in github.repo.pulls]
    issue = github.repo.issues[number]
    assert issue_url.endswith(f"/issues/{number}") and "Incident" in issue["title"]
    assert "be_pay" in issue["body"]  # the incident's report
    [(pr, pull)] = github.repo.pulls.items()
    assert pull["draft"] is True and pr_url.endswith(f"/pull/{pr}")
    assert {"oncall-copilot", "incident", "rollback"} <= set(github.repo.issues[pr]["labels"])
    assert github.files_at(pull["head"])["app/pool.py"] == "POOL = 10\n"  # the revert
    messages = " ".join(e["message"] for e in timeline)
    assert issue_url in messages and pr_url in messages


async def test_an_approved_drain_opens_a_config_pr_when_no_runtime_socket_executes_it(redis_url, notifier, github) -> None:
    github.commit_files("main", {"haproxy/haproxy.cfg": CONFIG}, "initial")
    drain = DrainServer(backend="be_app", server="app1", evidence=["app1 refuses connections"])
    settings = _settings(redis_url, notifier.url, github, github_haproxy_config_path="haproxy/haproxy.cfg")
    async with agent(settings, BREAKDOWN) as (_, client):
        incident = await incident_from_analysis(client, proposals=[drain.model_dump(mode="json")])
        pid = incident["proposals"][0]["id"]
        approved = await client.post(f"/incidents/{incident['id']}/proposals/{pid}/approve", json={"by": "alice"})
    assert approved.status_code == 200 and len(approved.json()["links"]) == 2
    [pull] = github.repo.pulls.values()
    assert changed_lines(CONFIG, github.files_at(pull["head"])["haproxy/haproxy.cfg"]) == [
        "-    server app1 127.0.0.1:9001 check weight 100   # primary",
        "+    server app1 127.0.0.1:9001 check weight 100 disabled   # primary"]

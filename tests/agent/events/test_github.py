"""The GitHub deployment_status webhook: X-Hub-Signature-256 over the raw body (GitHub's own test
vector), good / bad / missing signatures, ping, other events, the mapping to a deploy event, on a
real redis-server through the app."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent_service.events import github
from tests.agent.events.github_payloads import deployment_status, ping, signed
from tests.agent.incidents.support import running_app, settings_for

SECRET = "gh-webhook-secret-for-tests"
PATH = "/integrations/github/webhook"


def test_signature_matches_githubs_documented_test_vector() -> None:
    # docs.github.com "Validating webhook deliveries" → "Testing the webhook payload validation".
    sent = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert github.signature("It's a Secret to Everybody", b"Hello, World!") == sent
    github.verify("It's a Secret to Everybody", sent=sent, body=b"Hello, World!")
    with pytest.raises(github.GithubRejected, match="does not match"):
        github.verify("It's a Secret to Everybody", sent=sent, body=b"Hello, World?")
    with pytest.raises(github.GithubRejected, match="missing"):
        github.verify("It's a Secret to Everybody", sent=None, body=b"Hello, World!")


def test_mapping_of_a_successful_deployment() -> None:
    received = datetime(2026, 1, 1, 14, 30, tzinfo=UTC)
    event = github.to_event(github.parse(signed(SECRET, deployment_status(), "deployment_status")[0]),
                            received=received)
    assert event is not None
    assert (event.id, event.kind, event.backend, event.service, event.version, event.by) == (
        "github-deployment-145988746", "deploy", "be_search", "acme/search", "v2.3.1", "alice")
    assert event.at == datetime(2026, 1, 1, 13, 59, tzinfo=UTC) and event.url == "https://ci.example/runs/7"
    branch = github.to_event(github.parse(signed(SECRET, deployment_status(
        ref="main", environment="production", payload={"backend": "be_api"}, target_url=""), "x")[0]),
        received=received)
    assert branch is not None
    assert branch.version == "f95f852bd8fc"  # a branch name says nothing of what ran: the sha
    assert branch.backend == "be_api"  # payload.backend wins over the environment's name
    assert branch.url == "https://api.github.com/repos/acme/search/deployments/145988746"
    failed = github.parse(signed(SECRET, deployment_status(state="failure"), "x")[0])
    assert github.to_event(failed, received=received) is None


async def test_signed_deployment_status_becomes_one_deploy_event(redis_url, notifier) -> None:
    settings = settings_for(redis_url, notifier.url, github_webhook_secret=SECRET, api_token="api")
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    body, headers = signed(SECRET, deployment_status(created_at=now), "deployment_status")
    async with running_app(settings) as (_app, client):
        first = await client.post(PATH, content=body, headers=headers)
        again = await client.post(PATH, content=body, headers=headers)  # GitHub's redelivery
        listed = await client.get("/events", headers={"Authorization": "Bearer api"})
    assert first.status_code == 200 and first.json() == {
        "status": "recorded", "event_id": "github-deployment-145988746", "reason": None}
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    (event,) = listed.json()["events"]
    assert (event["backend"], event["version"], event["by"]) == ("be_search", "v2.3.1", "alice")


async def test_bad_or_missing_signature_is_401_and_records_nothing(redis_url, notifier) -> None:
    settings = settings_for(redis_url, notifier.url, github_webhook_secret=SECRET)
    body, headers = signed(SECRET, deployment_status(), "deployment_status")
    _, wrong_headers = signed("another-secret", deployment_status(), "deployment_status")
    async with running_app(settings) as (_app, client):
        tampered = await client.post(PATH, content=body.replace(b"alice", b"mallory"), headers=headers)
        wrong = await client.post(PATH, content=body, headers=wrong_headers)
        missing = await client.post(PATH, content=body, headers={"X-GitHub-Event": "deployment_status"})
        listed = await client.get("/events")
    assert (tampered.status_code, wrong.status_code, missing.status_code) == (401, 401, 401)
    assert "missing" in missing.text
    assert listed.json()["count"] == 0


async def test_ping_other_events_and_other_states(redis_url, notifier) -> None:
    settings = settings_for(redis_url, notifier.url, github_webhook_secret=SECRET)
    async with running_app(settings) as (_app, client):
        pong = await client.post(PATH, content=(s := signed(SECRET, ping(), "ping"))[0], headers=s[1])
        push = await client.post(PATH, content=(s := signed(SECRET, {"ref": "refs/heads/main"}, "push"))[0],
                                 headers=s[1])
        pending = await client.post(PATH, content=(s := signed(SECRET, deployment_status(state="pending"),
                                                               "deployment_status"))[0], headers=s[1])
        garbage = await client.post(PATH, content=(s := signed(SECRET, {"deployment_status": {}}, "deployment_status"))[0],
                                    headers=s[1])
        listed = await client.get("/events")
    assert pong.status_code == 200 and pong.json()["status"] == "pong"
    assert push.status_code == 202 and push.json()["status"] == "ignored"
    assert pending.status_code == 202 and pending.json()["status"] == "ignored"
    assert garbage.status_code == 400 and "deployment_status" in garbage.text
    assert listed.json()["count"] == 0


async def test_without_a_secret_the_webhook_does_not_exist(redis_url, notifier) -> None:
    body, headers = signed(SECRET, deployment_status(), "deployment_status")
    async with running_app(settings_for(redis_url, notifier.url)) as (_app, client):
        answer = await client.post(PATH, content=body, headers=headers)
    assert answer.status_code == 404

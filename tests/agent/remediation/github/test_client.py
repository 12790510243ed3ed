"""The client against the fake GitHub over real HTTP: headers, typed errors, bounded retries, no token leaks."""

from __future__ import annotations

import logging

import pytest

from agent_service.remediation.github import (
    GitHubAuthError,
    GitHubClient,
    GitHubForbidden,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubUnavailable,
)
from tests.agent.remediation.github.helpers import Sleeps, config_for
from tests.fakes.github_api import FakeGitHub
from tests.support.net import free_port


async def test_every_request_carries_the_documented_headers(github: FakeGitHub, client: GitHubClient) -> None:
    github.commit_files("main", {"README.md": "hi\n"})
    ref = await client.repo_call("GET", "/git/ref/heads/main")
    assert ref["ref"] == "refs/heads/main"
    assert github.problems == []


async def test_a_bad_token_is_an_auth_error_that_never_shows_the_token(
        github: FakeGitHub, sleeps: Sleeps, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "ghp_wrong_but_secret_987654321"
    async with GitHubClient(config_for(github, token=secret), sleep=sleeps) as gh:
        with pytest.raises(GitHubAuthError) as caught:
            await gh.repo_call("GET", "/issues")
        assert secret not in repr(gh.config) and secret not in str(gh.config.model_dump())
    assert caught.value.status == 401
    assert "Bad credentials" in caught.value.reason
    for text in (str(caught.value), repr(caught.value), caplog.text, str(caught.value.__context__ or "")):
        assert secret not in text
    assert sleeps == []  # a 401 is not retried


async def test_a_reflected_token_is_scrubbed_from_the_reason(github: FakeGitHub, client: GitHubClient) -> None:
    github.fail("GET", "/issues", 403, message=f"token {github.token} lacks issues:write")
    with pytest.raises(GitHubForbidden) as caught:
        await client.repo_call("GET", "/issues")
    assert github.token not in str(caught.value)
    assert "[redacted] lacks issues:write" in caught.value.reason


async def test_403_without_rate_limit_signs_is_not_retried(github: FakeGitHub, client: GitHubClient, sleeps: Sleeps) -> None:
    github.fail("GET", "/issues", 403, message="Resource not accessible by personal access token", times=5)
    with pytest.raises(GitHubForbidden, match="Resource not accessible"):
        await client.repo_call("GET", "/issues")
    assert len(github.calls_to("GET", "/issues")) == 1 and sleeps == []


async def test_secondary_rate_limit_waits_retry_after_then_succeeds(
        github: FakeGitHub, client: GitHubClient, sleeps: Sleeps) -> None:
    github.fail("POST", "/issues", 403, headers={"retry-after": "7"},
                message="You have exceeded a secondary rate limit and have been temporarily blocked")
    issue = await client.repo_call("POST", "/issues", json={"title": "t"})
    assert issue["number"] == 1
    assert sleeps == [7.0]
    assert len(github.repo.issues) == 1  # the rate-limited attempt did nothing; the retry made one


async def test_primary_rate_limit_waits_until_reset(github: FakeGitHub, sleeps: Sleeps) -> None:
    github.fail("GET", "/pulls", 429, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000030"})
    async with GitHubClient(config_for(github), sleep=sleeps, clock=lambda: 1_000_000.0) as gh:
        assert await gh.repo_call("GET", "/pulls") == []
    assert sleeps == [30.0]


async def test_secondary_limit_without_headers_waits_a_minute_growing(github: FakeGitHub, sleeps: Sleeps) -> None:
    github.fail("GET", "/pulls", 403, message="secondary rate limit", times=2)
    async with GitHubClient(config_for(github, max_wait_s=300), sleep=sleeps) as gh:
        assert await gh.repo_call("GET", "/pulls") == []
    assert sleeps == [60.0, 120.0]
    github.fail("GET", "/pulls", 403, message="secondary rate limit", times=2)
    async with GitHubClient(config_for(github), sleep=sleeps) as gh:  # 120 s > max_wait_s (90)
        with pytest.raises(GitHubRateLimited):
            await gh.repo_call("GET", "/pulls")
    assert sleeps == [60.0, 120.0, 60.0]


async def test_a_wait_longer_than_allowed_fails_at_once(github: FakeGitHub, client: GitHubClient, sleeps: Sleeps) -> None:
    github.fail("GET", "/pulls", 429, headers={"retry-after": "3600"})
    with pytest.raises(GitHubRateLimited):
        await client.repo_call("GET", "/pulls")
    assert sleeps == []


async def test_5xx_on_a_read_is_retried_with_backoff_then_given_up(
        github: FakeGitHub, client: GitHubClient, sleeps: Sleeps) -> None:
    github.fail("GET", "/pulls", 502, times=1)
    assert await client.repo_call("GET", "/pulls") == []
    assert sleeps == [1.0]
    github.fail("GET", "/pulls", 503, times=10)
    with pytest.raises(GitHubUnavailable) as caught:
        await client.repo_call("GET", "/pulls")
    assert caught.value.status == 503
    assert len(github.calls_to("GET", "/pulls")) == 2 + 3  # bounded: max_attempts = 3
    assert sleeps == [1.0, 1.0, 2.0]


async def test_5xx_on_creating_an_issue_is_not_repeated_blindly(github: FakeGitHub, client: GitHubClient) -> None:
    github.fail("POST", "/issues", 500, after=True)
    with pytest.raises(GitHubUnavailable):
        await client.repo_call("POST", "/issues", json={"title": "t"})
    assert len(github.calls_to("POST", "/issues")) == 1


async def test_404_and_transport_errors_are_typed(github: FakeGitHub, client: GitHubClient, sleeps: Sleeps) -> None:
    with pytest.raises(GitHubNotFound):
        await client.repo_call("GET", "/git/ref/heads/nope")
    async with GitHubClient(config_for(github, api_url=f"http://127.0.0.1:{free_port()}"), sleep=sleeps) as gh:
        with pytest.raises(GitHubUnavailable, match="ConnectError") as caught:
            await gh.repo_call("GET", "/pulls")
    assert github.token not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from agent_service.remediation.github import GitHubClient, GitHubFiler, LinkPolicy
from tests.agent.remediation.github.helpers import PUBLIC_URL, Sleeps, config_for
from tests.fakes.github_api import FakeGitHub, running_github


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with running_github() as fake:
        yield fake
    assert fake.problems == []  # every request carried the headers GitHub documents


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(github: FakeGitHub, sleeps: Sleeps) -> AsyncIterator[GitHubClient]:
    async with GitHubClient(config_for(github), sleep=sleeps) as gh:
        yield gh


@pytest.fixture
def filer(client: GitHubClient) -> GitHubFiler:
    return GitHubFiler(client, policy=LinkPolicy(public_url=PUBLIC_URL, api_url=client.config.api_url))

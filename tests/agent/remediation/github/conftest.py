from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from agent_service.remediation.github import GitHubClient, GitHubConfig, GitHubFiler, LinkPolicy
from tests.fakes.github_api import FakeGitHub, running_github

PUBLIC_URL = "http://127.0.0.1:8001"


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with running_github() as fake:
        yield fake


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def config_for(fake: FakeGitHub, **overrides: object) -> GitHubConfig:
    values: dict[str, object] = {"token": fake.token, "repo": fake.full_name, "api_url": fake.url, **overrides}
    return GitHubConfig.model_validate(values)


@pytest.fixture
async def client(github: FakeGitHub, sleeps: Sleeps) -> AsyncIterator[GitHubClient]:
    async with GitHubClient(config_for(github), sleep=sleeps) as gh:
        yield gh


@pytest.fixture
def filer(client: GitHubClient) -> GitHubFiler:
    return GitHubFiler(client, policy=LinkPolicy(public_url=PUBLIC_URL, api_url=client.config.api_url))

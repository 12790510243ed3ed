"""Shared by the GitHub remediation tests: the fake's client config, a recording sleep, an HAProxy config."""

from __future__ import annotations

import difflib

from agent_service.remediation.github import GitHubConfig
from tests.fakes.github_api import FakeGitHub

PUBLIC_URL = "http://127.0.0.1:8001"


class Sleeps(list[float]):
    """Stands in for asyncio.sleep: records the waits instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def config_for(fake: FakeGitHub, **overrides: object) -> GitHubConfig:
    values: dict[str, object] = {"token": fake.token, "repo": fake.full_name, "api_url": fake.url, **overrides}
    return GitHubConfig.model_validate(values)


CONFIG = """global
    maxconn 2000   # whole process

defaults
    timeout connect 5s

frontend fe_main
    bind 127.0.0.1:8080
    default_backend be_app

backend be_app
    balance roundrobin
    default-server check inter 2s weight 10
    server app1 127.0.0.1:9001 check weight 100   # primary
    server app2 127.0.0.1:9002 check maxconn 30 disabled
    server app3\t127.0.0.1:9003

backend be_search
    server app1 127.0.0.1:9101 check weight 50
"""


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]

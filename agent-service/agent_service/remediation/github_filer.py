"""remediation/ports.ChangeFiler on GitHub (remediation/github/): the incident issue with its
report, and for an approved proposal a draft pull request — a revert of the deploy's commit for a
`rollback` that names one, a patch of one `server` line of the HAProxy config in the repository
(GITHUB_HAPROXY_CONFIG_PATH) for a drain, a weight or a maxconn. Plain values go to the filer."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pydantic import SecretStr
from redis.asyncio import Redis

from agent_service.remediation.github.bodies import LinkPolicy
from agent_service.remediation.github.client import GitHubClient, GitHubConfig
from agent_service.remediation.github.filer import GitHubFiler
from agent_service.remediation.github.haproxy_config import ServerChange
from agent_service.remediation.github.record import RedisFiledRecord
from agent_service.remediation.models import AnyProposal

if TYPE_CHECKING:
    from agent_service.settings import Settings

log = logging.getLogger(__name__)
LABELS = ["oncall-copilot", "incident"]


def server_change(proposal: AnyProposal) -> ServerChange | None:
    """The config edit that makes a runtime proposal last (None: not a server-line change)."""
    if proposal.type == "drain_server":
        return ServerChange(disabled=True)
    if proposal.type == "set_server_weight":
        return ServerChange(weight=proposal.weight)
    if proposal.type == "set_maxconn":
        return ServerChange(maxconn=proposal.maxconn)
    return None


class GitHubChangeFiler:
    def __init__(self, filer: GitHubFiler, *, base: str = "main", haproxy_config_path: str | None = None) -> None:
        self.filer = filer
        self.base = base
        self.haproxy_config_path = haproxy_config_path

    async def file_issue(self, incident_id: int, title: str, body_markdown: str, labels: list[str]) -> str:
        filed = await self.filer.file_issue(incident_id, title, body_markdown, [*LABELS, *labels])
        return filed.url

    async def open_draft_pr(self, proposal: AnyProposal, incident_id: int, title: str, body: str) -> str | None:
        labels = [*LABELS, proposal.type]
        if proposal.type == "rollback" and proposal.commit:
            filed = await self.filer.open_revert_pr(incident_id, title, body, proposal.commit, base=self.base,
                                                    labels=labels)
            return filed.url
        change = server_change(proposal)
        if change is not None and self.haproxy_config_path is not None:
            filed = await self.filer.open_haproxy_pr(
                incident_id, title, body, path=self.haproxy_config_path, backend=proposal.backend,  # type: ignore[union-attr]
                server=proposal.server, change=change, base=self.base, labels=labels)  # type: ignore[union-attr]
            return filed.url
        return None


def github_filer(settings: Settings, redis: Redis) -> tuple[GitHubClient, GitHubChangeFiler] | None:
    """The client (closed by the caller) and the filer, when GITHUB_TOKEN and GITHUB_REPO are set."""
    if not settings.github_token or not settings.github_repo:
        return None
    config = GitHubConfig(token=SecretStr(settings.github_token), repo=settings.github_repo,
                          api_url=settings.github_api_url)
    client = GitHubClient(config)
    filer = GitHubFiler(client, record=RedisFiledRecord(redis),
                        policy=LinkPolicy(public_url=settings.public_url, api_url=config.api_url))
    log.info("GitHub filing on for %s", settings.github_repo)
    return client, GitHubChangeFiler(filer, base=settings.github_base_branch,
                                     haproxy_config_path=settings.github_haproxy_config_path)

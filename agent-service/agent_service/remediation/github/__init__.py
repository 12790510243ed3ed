"""GitHub for remediation: an issue with the incident report, draft pull requests for a rollback
(a revert of the deploy's commit) or a configuration change. See docs/remediation-github.md."""

from agent_service.remediation.github.bodies import LinkPolicy
from agent_service.remediation.github.client import GitHubClient, GitHubConfig
from agent_service.remediation.github.errors import (
    GitHubAuthError,
    GitHubBusy,
    GitHubError,
    GitHubForbidden,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubRejected,
    GitHubUnavailable,
    NothingToChange,
    RevertNeedsHuman,
)
from agent_service.remediation.github.filer import Filed, GitHubFiler
from agent_service.remediation.github.haproxy_config import ServerChange, ServerLineNotFound, edit_server
from agent_service.remediation.github.record import FiledRecord, MemoryFiledRecord, RedisFiledRecord

__all__ = [
    "Filed", "FiledRecord", "GitHubAuthError", "GitHubBusy", "GitHubClient", "GitHubConfig", "GitHubError", "GitHubFiler",
    "GitHubForbidden", "GitHubNotFound", "GitHubRateLimited", "GitHubRejected", "GitHubUnavailable",
    "LinkPolicy", "MemoryFiledRecord", "NothingToChange", "RedisFiledRecord", "RevertNeedsHuman",
    "ServerChange", "ServerLineNotFound", "edit_server",
]

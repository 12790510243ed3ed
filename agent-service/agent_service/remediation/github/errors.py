"""Typed failures of the GitHub integration. Every message is built from GitHub's own `message`
field and our reason, scrubbed of the token: no exception, log line or repr carries it."""

from __future__ import annotations


class GitHubError(Exception):
    """A GitHub call that did not do what was asked; `reason` is safe to show and to log."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class GitHubAuthError(GitHubError):
    """401: GITHUB_TOKEN missing, expired or revoked."""


class GitHubForbidden(GitHubError):
    """403 that is not a rate limit: the token lacks a permission (contents, issues, pull requests)."""


class GitHubNotFound(GitHubError):
    """404: GITHUB_REPO, a commit, a ref or a path that does not exist (or is hidden from the token)."""


class GitHubRejected(GitHubError):
    """409/422: GitHub refused the request as made (a conflict, an invalid field)."""


class GitHubRateLimited(GitHubError):
    """Still rate limited after the bounded retries, or told to wait longer than we may."""


class GitHubUnavailable(GitHubError):
    """5xx or a transport failure after the bounded retries."""


class GitHubBusy(GitHubError):
    """Another worker is filing the same thing for this incident right now: retry later."""


class RevertNeedsHuman(GitHubError):
    """The commit cannot be reverted mechanically (base moved on one of its files, a huge tree)."""


class NothingToChange(GitHubError):
    """The proposed content equals what the base already holds: no pull request to open."""


def scrub(text: str, secret: str | None) -> str:
    """`text` without `secret` anywhere in it (a reflected header, a URL), cut to one short line."""
    flat = " ".join(text.split())[:300]
    if secret:
        flat = flat.replace(secret, "[redacted]")
    return flat

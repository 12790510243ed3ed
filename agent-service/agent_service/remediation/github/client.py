"""A small GitHub REST client (httpx.AsyncClient) with the headers GitHub documents and bounded retries.

Headers on every request ("Getting started with the REST API"): `Accept: application/vnd.github+json`,
`X-GitHub-Api-Version: 2022-11-28`, `Authorization: Bearer <GITHUB_TOKEN>`, and a `User-Agent`
(GitHub refuses requests without one).

Retries ("Rate limits for the REST API", "Best practices"), at most `max_attempts` in all:
- 429, or 403 carrying a rate-limit sign (`retry-after`, `x-ratelimit-remaining: 0`, a message
  naming the rate limit): GitHub did not act, so every method is retried — after `retry-after`
  seconds when present, else until `x-ratelimit-reset` when the remaining count is 0, else at
  least a minute (`secondary_wait_s`), growing by `backoff_delay`. A wait longer than
  `max_wait_s` is not slept through: GitHubRateLimited at once.
- 5xx and transport errors: retried only for requests safe to repeat (GET/PUT/DELETE, and POSTs
  the caller marks `idempotent`); creating an issue or a pull request is not repeated blindly —
  the filer looks for what a failed attempt may have created before trying again.
Everything else maps to a typed GitHubError whose reason never contains the token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from agent_service.remediation.github.errors import (
    GitHubAuthError,
    GitHubError,
    GitHubForbidden,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubRejected,
    GitHubUnavailable,
    scrub,
)
from oncall_common.backoff import backoff_delay

log = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
_SAFE_METHODS = frozenset({"GET", "PUT", "DELETE"})


class GitHubConfig(BaseModel):
    """What the client needs (the service maps GITHUB_TOKEN, GITHUB_REPO, GITHUB_API_URL onto it)."""

    model_config = ConfigDict(frozen=True)

    token: SecretStr
    repo: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
    api_url: str = "https://api.github.com"
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=3, ge=1, le=10)
    max_wait_s: float = Field(default=90.0, ge=0)  # longest wait honoured inline
    secondary_wait_s: float = Field(default=60.0, ge=0)  # GitHub: "wait for at least one minute"
    backoff_base_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)

    @property
    def owner(self) -> str:
        return self.repo.split("/", 1)[0]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> GitHubConfig | None:
        """GITHUB_TOKEN + GITHUB_REPO (+ GITHUB_API_URL); None when either is unset (GitHub off)."""
        token, repo = environ.get("GITHUB_TOKEN"), environ.get("GITHUB_REPO")
        if not token or not repo:
            return None
        return cls(token=SecretStr(token), repo=repo,
                   api_url=environ.get("GITHUB_API_URL") or "https://api.github.com")


def path_part(value: str) -> str:
    """A repository path or a branch name inside a URL: each segment quoted, the slashes kept."""
    return quote(value, safe="/")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict):
        text = str(body.get("message") or response.reason_phrase)
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            detail = first.get("message") or first.get("code") if isinstance(first, dict) else first
            text += f" ({detail})"
        return text
    return response.reason_phrase


def _rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    headers = response.headers
    return "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0" or \
        "rate limit" in _message(response).lower()


class GitHubClient:
    def __init__(
        self,
        config: GitHubConfig,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=config.timeout_s)
        self._sleep = sleep
        self._clock = clock
        self._base = config.api_url.rstrip("/")

    async def __aenter__(self) -> GitHubClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def _headers(self) -> dict[str, str]:
        return {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "Authorization": f"Bearer {self.config.token.get_secret_value()}",
            "User-Agent": "oncall-copilot",
        }

    def _error(self, response: httpx.Response, what: str) -> GitHubError:
        status = response.status_code
        reason = scrub(f"{what}: {status} {_message(response)}", self.config.token.get_secret_value())
        kinds: Mapping[int, type[GitHubError]] = {401: GitHubAuthError, 403: GitHubForbidden,
                                                  404: GitHubNotFound, 409: GitHubRejected,
                                                  422: GitHubRejected}
        if _rate_limited(response):
            return GitHubRateLimited(reason, status=status)
        if status >= 500:
            return GitHubUnavailable(reason, status=status)
        return kinds.get(status, GitHubError)(reason, status=status)

    def _rate_wait(self, response: httpx.Response, failures: int) -> float:
        headers = response.headers
        try:
            if "retry-after" in headers:
                return max(float(headers["retry-after"]), 0.0)
            if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
                return max(float(headers["x-ratelimit-reset"]) - self._clock(), 0.0)
        except ValueError:
            pass
        return self.config.secondary_wait_s * 2 ** (failures - 1)

    async def repo_call(
        self,
        method: str,
        suffix: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """`method /repos/{owner}/{repo}{suffix}` → its JSON body; a typed GitHubError otherwise."""
        path = f"/repos/{self.config.repo}{suffix}"
        what = f"{method} {path}"
        retry_failures = method in _SAFE_METHODS if idempotent is None else idempotent
        cfg = self.config
        for attempt in range(1, cfg.max_attempts + 1):
            last = attempt == cfg.max_attempts
            try:
                response = await self._http.request(method, self._base + path, json=json, params=params,
                                                    headers=self._headers())
            except httpx.TransportError as exc:
                log.warning("github %s failed: %s (attempt %d)", what, type(exc).__name__, attempt)
                if last or not retry_failures:
                    raise GitHubUnavailable(f"{what}: {type(exc).__name__}") from None
                await self._sleep(backoff_delay(attempt, base_s=cfg.backoff_base_s, max_s=cfg.backoff_max_s))
                continue
            log.info("github %s -> %d", what, response.status_code)
            if response.status_code < 300:
                return response.json() if response.content else None
            error = self._error(response, what)
            if isinstance(error, GitHubRateLimited):
                wait = self._rate_wait(response, attempt)
                if last or wait > cfg.max_wait_s:
                    raise error
                await self._sleep(wait)
            elif isinstance(error, GitHubUnavailable) and retry_failures and not last:
                await self._sleep(backoff_delay(attempt, base_s=cfg.backoff_base_s, max_s=cfg.backoff_max_s))
            else:
                raise error
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

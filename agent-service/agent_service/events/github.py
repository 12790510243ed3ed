"""The GitHub `deployment_status` webhook (pure): the signature and the mapping to a ChangeEvent.

Signature (GitHub "Validating webhook deliveries"): `X-Hub-Signature-256` is `sha256=` + hex
HMAC-SHA256(GITHUB_WEBHOOK_SECRET, raw body), compared in constant time (hmac.compare_digest).

Mapping of a `deployment_status` whose state is `success` (other states are ignored):
- id      `github-deployment-{deployment.id}` (every success status of one deployment is one event)
- version `deployment.ref` when it names a release (a tag starting with a digit or v + digit),
          else the first 12 characters of `deployment.sha` (a branch name says nothing of what ran)
- backend `deployment.payload.backend` when the deployment was created with one, else the
          environment's name (`deployment_status.environment`, then `deployment.environment`):
          name environments after HAProxy backends (`be_search`) or pass `payload.backend`
- service the repository's `full_name`;  by `deployment.creator.login`
- url     `deployment_status.target_url` (or `log_url`), else `deployment.url`
- at      `deployment_status.created_at` (when it went live), the receipt time if unreadable
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent_service.events.models import ChangeEvent
from agent_service.models import sane_instant

MAX_BODY_BYTES = 1024 * 1024
_RELEASE = re.compile(r"^v?\d[A-Za-z0-9_.+-]{0,99}$")
_NAME_OK = re.compile(r"^[A-Za-z0-9_.:~/@+-]{1,200}$")


class GithubRejected(ValueError):
    """Not signed with GITHUB_WEBHOOK_SECRET (bad or missing X-Hub-Signature-256)."""


class NotADeployment(ValueError):
    """A deployment_status delivery that cannot be read as one."""


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, *, sent: str | None, body: bytes) -> None:
    if not sent:
        raise GithubRejected("missing X-Hub-Signature-256")
    if not hmac.compare_digest(signature(secret, body).encode(), sent.strip().encode()):
        raise GithubRejected("X-Hub-Signature-256 does not match")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _User(_Lenient):
    login: str = Field(default="", max_length=100)


class _Status(_Lenient):
    state: str = Field(max_length=40)
    environment: str | None = Field(default=None, max_length=255)
    target_url: str | None = Field(default=None, max_length=2000)
    log_url: str | None = Field(default=None, max_length=2000)
    description: str | None = Field(default=None, max_length=1000)
    created_at: str | None = Field(default=None, max_length=64)


class _Deployment(_Lenient):
    id: int
    sha: str = Field(default="", max_length=100)
    ref: str = Field(default="", max_length=255)
    environment: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=2000)
    payload: dict[str, Any] | str | None = None
    creator: _User | None = None
    description: str | None = Field(default=None, max_length=1000)


class _Repository(_Lenient):
    full_name: str = Field(default="", max_length=200)


class DeploymentStatusEvent(_Lenient):
    deployment_status: _Status
    deployment: _Deployment
    repository: _Repository | None = None


def parse(body: bytes) -> DeploymentStatusEvent:
    try:
        return DeploymentStatusEvent.model_validate_json(body)
    except ValidationError as exc:
        raise NotADeployment("not a deployment_status payload: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])) from None


def _version(d: _Deployment) -> str | None:
    if d.ref and _RELEASE.match(d.ref):
        return d.ref
    return d.sha[:12] or None


def _backend(d: _Deployment, status: _Status) -> str | None:
    named = d.payload.get("backend") if isinstance(d.payload, dict) else None
    for candidate in (named, status.environment, d.environment):
        if isinstance(candidate, str) and _NAME_OK.match(candidate.strip()):
            return candidate.strip()
    return None


def _url(*candidates: str | None) -> str | None:
    for url in candidates:
        if url and url.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in url):
            return url
    return None


def _at(raw: str | None, received: datetime) -> datetime:
    try:
        return sane_instant(datetime.fromisoformat((raw or "").replace("Z", "+00:00")), now=received)
    except ValueError:
        return received


def to_event(delivery: DeploymentStatusEvent, *, received: datetime) -> ChangeEvent | None:
    """The deploy event of a successful deployment status; None for any other state."""
    status, d = delivery.deployment_status, delivery.deployment
    if status.state != "success":
        return None
    repo = delivery.repository.full_name if delivery.repository else ""
    login = d.creator.login if d.creator and d.creator.login else None
    backend = _backend(d, status)
    service = repo if _NAME_OK.match(repo) else None
    if backend is None and service is None:
        raise NotADeployment("the deployment names no environment, payload.backend or repository")
    what = f"{d.ref or '?'}@{d.sha[:12]}" if d.sha else (d.ref or "?")
    summary = " ".join(" ".join(p.split()) for p in (
        f"GitHub deployment of {repo or 'a repository'} {what} to {status.environment or d.environment or '?'}",
        status.description or d.description or "") if p)
    try:
        return ChangeEvent(
            id=f"github-deployment-{d.id}", kind="deploy", backend=backend, service=service, version=_version(d),
            summary=summary[:500], at=_at(status.created_at, received), by=login,
            url=_url(status.target_url, status.log_url, d.url),
        )
    except ValidationError as exc:
        raise NotADeployment("deployment fields out of range: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])) from None

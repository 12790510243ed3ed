"""Client of notifier-service POST /notify (contract in ARCHITECTURE.md).

The idempotency key is derived from the incident, the event and the timeline entry that caused
it, so a retried call (ours, or a worker re-processing a delivery after a crash) never sends a
second email. Failures come back as a value for the caller to record, saying whether trying again
later may help (the caller keeps those pending: incidents/notify_retry.py); nothing here raises.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

import httpx
from pydantic import BaseModel, Field

from oncall_common.request_id import async_client

log = logging.getLogger(__name__)


class NotifyRequest(BaseModel):
    idempotency_key: str
    incident_id: int
    event: str
    severity: str
    title: str
    summary: str
    report_markdown: str = ""
    url: str = ""
    # Links the email may make clickable besides `url`: the alerts' generatorURL and the sender's
    # externalURL exactly as Alertmanager sent them (every other link in the text shows as text).
    links: list[str] = Field(default_factory=list, max_length=20)
    to: str | None = None
    # Who has the incident (incidents/ack.py); sent only when someone does (optional, additive).
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    # Pending remediation proposals ({id, summary, risk}), for Approve / Reject in the chats;
    # sent only when there are some (optional, additive).
    proposals: list[dict[str, str]] | None = None

    def body(self) -> dict[str, object]:
        """The JSON body: the optional fields the notifier may not know are left out while unset."""
        return self.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class NotifyResult:
    ok: bool
    notification_id: str | None = None
    error: str | None = None
    duplicate: bool = False
    # The notifier was unreachable, timed out, or answered 5xx/429: the same request may succeed
    # later. False with ok=False: our request is wrong (4xx); trying it again would not help.
    retryable: bool = False


def idempotency_key(incident_id: int, event: str, cause: str) -> str:
    digest = hashlib.sha256(f"{incident_id}|{event}|{cause}".encode()).hexdigest()[:32]
    return f"incident-{incident_id}-{event}-{digest}"


class NotifierClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 5.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.http = async_client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s, transport=transport
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def notify(self, request: NotifyRequest) -> NotifyResult:
        error = "not attempted"
        retryable = True
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = await self.http.post("/notify", json=request.body())
            except httpx.HTTPError as exc:
                error = f"notifier unreachable: {type(exc).__name__}: {exc}"
                continue
            if response.status_code in (200, 202):
                body = _json(response)
                return NotifyResult(
                    ok=True, notification_id=str(body.get("id")) if body.get("id") else None,
                    duplicate=response.status_code == 200,
                )
            error = f"notifier answered {response.status_code}: {response.text[:300]}"
            if response.status_code < 500 and response.status_code != 429:
                retryable = False
                break  # our request is wrong: retrying would not help
        log.warning("notification %s failed: %s", request.idempotency_key, error)
        return NotifyResult(ok=False, error=error, retryable=retryable)


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}

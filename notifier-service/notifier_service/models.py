"""Boundary models of the notifier-service (ARCHITECTURE.md, "notifier-service contract")."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from notifier_service.settings import parse_addresses

Event = Literal["opened", "updated", "mitigated", "resolved", "report"]
Severity = Literal["ok", "info", "warning", "critical"]
Status = Literal["queued", "sending", "sent", "failed", "skipped"]  # skipped: routed away (no email)
ChannelStatus = Literal["queued", "sending", "sent", "failed"]

UPDATE_EVENTS: frozenset[str] = frozenset({"updated", "report"})
INCIDENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
MAX_RECIPIENTS = 20
MAX_LINKS = 20
HTTP_URL = re.compile(r"^https?://[^\s<>\"'`]+$", flags=re.IGNORECASE)


MAX_PROPOSALS = 5


class ProposalButton(BaseModel):
    """A remediation proposal awaiting approval (the agent's `incident.proposals`, pending ones):
    chats show it with Approve / Reject (Slack buttons, Telegram commands) for the agent to act on."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=r"^p\d{1,6}$")
    summary: str = Field(min_length=1, max_length=300)
    risk: str = Field(default="", pattern=r"^(|low|medium|high)$")


class NotifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    idempotency_key: str | None = Field(default=None, description="same key again → the first notification")
    incident_id: str = Field(description="incident number or id; threads the emails")
    event: Event
    severity: Severity = "warning"
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(default="", max_length=10_000)
    report_markdown: str = Field(default="", max_length=200_000)
    url: str | None = Field(default=None, max_length=2000)
    to: list[str] = Field(default_factory=list, description="extra recipients, added to the routed ones")
    links: list[str] = Field(default_factory=list, max_length=MAX_LINKS,
                             description="alert links (generatorURL, externalURL) the report may link to, besides `url`")
    acknowledged_by: str | None = Field(default=None, max_length=200, description="who took the incident")
    acknowledged_at: datetime | None = Field(default=None, description="RFC 3339 or unix time")
    proposals: list[ProposalButton] = Field(default_factory=list, max_length=MAX_PROPOSALS,
                                            description="pending remediation proposals, for chat approval")

    @field_validator("acknowledged_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        except OverflowError as exc:  # e.g. 0001-01-01T00:00+05:00
            raise ValueError("acknowledged_at is out of range") from exc

    def acknowledgement_fields(self) -> dict[str, str]:
        """As stored: the name flattened to one line, the time as `YYYY-MM-DD HH:MM UTC`."""
        return {
            "acknowledged_by": " ".join((self.acknowledged_by or "").split()),
            "acknowledged_at": self.acknowledged_at.strftime("%Y-%m-%d %H:%M UTC") if self.acknowledged_at else "",
        }

    @field_validator("idempotency_key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not IDEMPOTENCY_KEY.match(value):
            raise ValueError("idempotency_key: 1-200 printable ASCII characters, no spaces")
        return value

    @field_validator("incident_id", mode="before")
    @classmethod
    def _incident(cls, value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError("incident_id must be a number or a string")
        text = str(value).strip()
        if not INCIDENT_ID.match(text):
            raise ValueError("incident_id: 1-64 characters of A-Z a-z 0-9 . _ -")
        return text

    @field_validator("severity", "event", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not HTTP_URL.match(value):
            raise ValueError("url must be an http(s) URL without spaces or quotes")
        return value

    @field_validator("links")
    @classmethod
    def _links(cls, value: list[str]) -> list[str]:
        for link in value:
            if len(link) > 2000 or not HTTP_URL.match(link):
                raise ValueError("links: http(s) URLs without spaces or quotes, at most 2000 characters")
        return value

    @field_validator("to", mode="before")
    @classmethod
    def _to(cls, value: object) -> list[str]:
        addresses = parse_addresses(value)
        if len(addresses) > MAX_RECIPIENTS:
            raise ValueError(f"at most {MAX_RECIPIENTS} extra recipients")
        return addresses


class NotifyAccepted(BaseModel):
    id: str
    status: Status


class ChannelState(BaseModel):
    status: ChannelStatus
    attempts: int = 0
    last_error: str | None = None
    sent_at: float | None = Field(default=None, description="unix time the channel accepted it")


class Notification(BaseModel):
    """A notification as stored and shown by `GET /notifications/{id}`."""

    id: str
    status: Status
    attempts: int = 0
    last_error: str | None = None
    sent_at: float | None = Field(default=None, description="unix time the SMTP server accepted it")
    created_at: float
    incident_id: str
    event: Event
    severity: Severity
    title: str
    to: list[str] = Field(default_factory=list)
    message_id: str
    next_attempt_at: float | None = None
    coalesced_into: str | None = Field(default=None, description="the notification whose email carried this one")
    coalesced_count: int = Field(default=0, description="later updates merged into this email")
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    channels: dict[str, ChannelState] = Field(
        default_factory=dict,
        description="delivery per channel the notification was routed to (email, slack, teams, telegram, webhook-N)",
    )


class NotificationList(BaseModel):
    notifications: list[Notification]
    count: int

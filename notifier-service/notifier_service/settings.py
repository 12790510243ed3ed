from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from oncall_common.settings import ServiceSettings

ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$")

AddressList = Annotated[list[str], NoDecode]
UrlList = Annotated[list[str], NoDecode]
MinSeverity = Literal["ok", "info", "warning", "critical"]
SEVERITY_RANK = {"ok": 0, "info": 1, "warning": 2, "critical": 3}
HTTP_BASE = r"^https?://[^\s<>\"'`]+$"


def parse_addresses(value: object) -> list[str]:
    """`a@x, b@y` or a list → a de-duplicated list of plain addresses; raises on a bad one."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValueError("addresses: a list of strings or one comma-separated string")
    seen: dict[str, str] = {}
    for raw in items:
        if not isinstance(raw, str):
            raise ValueError("addresses: each one must be a string")
        address = raw.strip()
        if not address:
            continue
        if not ADDRESS.match(address):
            raise ValueError(f"not a plain email address: {address[:80]!r}")
        seen.setdefault(address.lower(), address)
    return list(seen.values())


class Settings(ServiceSettings):
    port: int = Field(default=8002, ge=1, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = Field(default="notifier:", pattern=r"^[A-Za-z0-9:_.-]{1,40}$")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    smtp_validate_certs: bool = True
    smtp_ca_file: str | None = None
    smtp_local_hostname: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,253}$")
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Whole SMTP transaction (connect + envelope + data) for one message; the claim lease is longer.
    smtp_send_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    email_from: str = "oncall-copilot@localhost"
    email_to: AddressList = Field(default_factory=lambda: ["oncall@localhost"])
    email_to_critical: AddressList = Field(default_factory=list)
    email_to_warning: AddressList = Field(default_factory=list)
    message_id_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,200}$")
    notifier_token: str | None = None

    worker_enabled: bool = True
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base_seconds: float = Field(default=2.0, gt=0, le=3600)
    backoff_max_seconds: float = Field(default=300.0, gt=0, le=86400)
    coalesce_interval_seconds: float = Field(default=300.0, ge=0, le=86400)
    poll_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    lease_margin_seconds: float = Field(default=15.0, ge=0.1, le=600)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, le=120)
    # A message whose DATA was sent when the service died may or may not have been accepted.
    # false: mark it failed (never twice; re-send by hand); true: send it again (never lost).
    resend_uncertain: bool = False
    retention_days: float = Field(default=14.0, gt=0, le=3650)

    # Chat and webhook channels (docs/channels.md); a channel is on when its URL/credentials are set.
    slack_webhook_url: str | None = Field(default=None, pattern=HTTP_BASE)
    slack_bot_token: str | None = Field(default=None, pattern=r"^\S{1,300}$")
    slack_channel: str | None = Field(default=None, pattern=r"^[#@]?[A-Za-z0-9._-]{1,80}$")
    slack_api_url: str = Field(default="https://slack.com/api", pattern=HTTP_BASE)
    teams_webhook_url: str | None = Field(default=None, pattern=HTTP_BASE)
    telegram_bot_token: str | None = Field(default=None, pattern=r"^[A-Za-z0-9:_-]{1,200}$")
    telegram_chat_id: str | None = Field(default=None, pattern=r"^(-?[0-9]{1,20}|@[A-Za-z0-9_]{4,64})$")
    telegram_api_url: str = Field(default="https://api.telegram.org", pattern=HTTP_BASE)
    webhook_urls: UrlList = Field(default_factory=list)
    webhook_secret: str | None = Field(default=None, min_length=16)
    channel_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Severity routing: a channel gets a notification at or above its minimum severity, and then
    # every later one of the same incident (so the resolution reaches whoever saw the page).
    email_min_severity: MinSeverity = "ok"
    slack_min_severity: MinSeverity = "ok"
    teams_min_severity: MinSeverity = "ok"
    telegram_min_severity: MinSeverity = "ok"
    webhook_min_severity: MinSeverity = "ok"

    @field_validator("email_to", "email_to_critical", "email_to_warning", mode="before")
    @classmethod
    def _addresses(cls, value: object) -> list[str]:
        return parse_addresses(value)

    @field_validator("webhook_urls", mode="before")
    @classmethod
    def _urls(cls, value: object) -> list[str]:
        items = value.split(",") if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]
        urls = [str(u).strip() for u in items if str(u).strip()]
        for url in urls:
            if not re.match(HTTP_BASE, url, flags=re.IGNORECASE):
                raise ValueError(f"WEBHOOK_URLS: not an http(s) URL: {url[:80]!r}")
        if len(urls) > 10:
            raise ValueError("WEBHOOK_URLS: at most 10 URLs")
        return list(dict.fromkeys(urls))

    @field_validator(
        "email_min_severity", "slack_min_severity", "teams_min_severity", "telegram_min_severity",
        "webhook_min_severity", mode="before",
    )
    @classmethod
    def _severity(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("email_from")
    @classmethod
    def _sender(cls, value: str) -> str:
        parse_addresses(value)
        return value.strip()

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.email_to:
            raise ValueError("EMAIL_TO must name at least one recipient")
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("SMTP_USERNAME and SMTP_PASSWORD go together")
        if (self.slack_bot_token is None) != (self.slack_channel is None):
            raise ValueError("SLACK_BOT_TOKEN and SLACK_CHANNEL go together")
        if self.slack_bot_token and self.slack_webhook_url:
            raise ValueError("set SLACK_WEBHOOK_URL or SLACK_BOT_TOKEN + SLACK_CHANNEL, not both")
        if (self.telegram_bot_token is None) != (self.telegram_chat_id is None):
            raise ValueError("TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID go together")
        if self.webhook_urls and not self.webhook_secret:
            raise ValueError("WEBHOOK_URLS needs WEBHOOK_SECRET (at least 16 characters) to sign the requests")
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError("BACKOFF_MAX_SECONDS must be >= BACKOFF_BASE_SECONDS")
        return self

    @property
    def thread_domain(self) -> str:
        return self.message_id_domain or self.email_from.rsplit("@", 1)[1]

    @property
    def lease_seconds(self) -> float:
        return self.smtp_send_timeout_seconds + self.lease_margin_seconds

    @property
    def retention_seconds(self) -> int:
        return int(self.retention_days * 86400)

    @property
    def channel_lease_seconds(self) -> float:
        return self.channel_timeout_seconds + self.lease_margin_seconds

    def min_severity(self, channel: str) -> str:
        """The routing threshold of a channel ("webhook-2" → WEBHOOK_MIN_SEVERITY)."""
        thresholds = {
            "email": self.email_min_severity, "slack": self.slack_min_severity, "teams": self.teams_min_severity,
            "telegram": self.telegram_min_severity, "webhook": self.webhook_min_severity,
        }
        return thresholds[channel.split("-", 1)[0]]

    def recipients_for(self, severity: str) -> list[str]:
        if severity == "critical" and self.email_to_critical:
            return list(self.email_to_critical)
        if severity == "warning" and self.email_to_warning:
            return list(self.email_to_warning)
        return list(self.email_to)

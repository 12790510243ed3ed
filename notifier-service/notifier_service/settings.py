from __future__ import annotations

from pydantic import Field

from oncall_common.settings import ServiceSettings


class Settings(ServiceSettings):
    port: int = Field(default=8002, ge=1, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "none"
    email_from: str = "oncall-copilot@localhost"
    email_to: str = "oncall@localhost"
    notifier_token: str | None = None

from __future__ import annotations

from pydantic import Field

from oncall_common.settings import ServiceSettings


class Settings(ServiceSettings):
    port: int = Field(default=8000, ge=1, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    syslog_udp_port: int | None = Field(default=None, ge=1, le=65535)
    retention_hours: int = Field(default=26, ge=1, le=24 * 90)
    ingest_token: str | None = None

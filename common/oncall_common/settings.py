from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every service has. Each service subclasses it and adds its own fields.

    Values come from the environment only (no prefix), so the contract in ARCHITECTURE.md
    (`HOST`, `PORT`, `REDIS_URL`, ...) is the variable name of the field. An empty value means
    unset (`SMTP_PASSWORD=` in an env file, as .env.example ships them, is the default, not "").
    """

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False, env_ignore_empty=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_json: bool = True
    docs_enabled: bool = True
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    otel_exporter_otlp_endpoint: str | None = None
    otel_console: bool = False

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return upper

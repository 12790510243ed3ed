from __future__ import annotations

from pydantic import Field

from oncall_common.settings import ServiceSettings


class Settings(ServiceSettings):
    port: int = Field(default=8001, ge=1, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    ingestion_url: str = "http://127.0.0.1:8000"
    notifier_url: str = "http://127.0.0.1:8002"
    llm_engine: str = "auto"
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    specialist_model: str = "claude-haiku-4-5"
    synthesis_model: str = "claude-sonnet-4-6"
    api_token: str | None = None
    alerts_token: str | None = None

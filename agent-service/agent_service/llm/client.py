"""The Claude engine's configuration and its AsyncAnthropic client (real SDK, injected settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from anthropic import AsyncAnthropic, Timeout

from agent_service.llm.pricing import ModelPrice, PriceTable

if TYPE_CHECKING:
    from agent_service.settings import Settings

CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class LlmConfig:
    api_key: str
    base_url: str | None = None
    specialist_model: str = "claude-haiku-4-5"
    synthesis_model: str = "claude-sonnet-4-6"
    max_steps: int = 6
    max_tokens: int = 2048
    timeout_s: float = 30.0  # one HTTP attempt; the orchestrator's deadline bounds the whole run
    max_retries: int = 2
    tool_timeout_s: float = 15.0
    tool_result_max_chars: int = 16_000
    prices: Mapping[str, ModelPrice] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> LlmConfig:
        if not settings.anthropic_api_key:
            raise ValueError("ANTHROPIC_API_KEY is required for LLM_ENGINE=anthropic")
        return cls(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url,
            specialist_model=settings.specialist_model,
            synthesis_model=settings.synthesis_model,
            max_steps=settings.max_steps,
            max_tokens=settings.llm_max_tokens,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            tool_timeout_s=settings.tool_timeout_s,
            tool_result_max_chars=settings.tool_result_max_chars,
            prices=settings.llm_prices,
        )

    def price_table(self) -> PriceTable:
        return PriceTable(self.prices)


def build_client(config: LlmConfig) -> AsyncAnthropic:
    """The explicit api_key keeps the SDK from reading credentials from env or profile files."""
    return AsyncAnthropic(
        api_key=config.api_key,
        base_url=config.base_url,
        timeout=Timeout(config.timeout_s, connect=CONNECT_TIMEOUT_S),
        max_retries=config.max_retries,
    )

"""The model engines' configuration (Claude, OpenAI-compatible) and the AsyncAnthropic client
(real SDK, injected settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    supports_tools: bool = True  # the OpenAI-compatible engine only: False = ask for JSON instead

    @classmethod
    def from_settings(cls, settings: Settings) -> LlmConfig:
        if not settings.anthropic_api_key:
            raise ValueError("ANTHROPIC_API_KEY is required for LLM_ENGINE=anthropic")
        return cls(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url,
            specialist_model=settings.specialist_model,
            synthesis_model=settings.synthesis_model,
            **_loop_bounds(settings),
        )

    @classmethod
    def for_openai(cls, settings: Settings) -> LlmConfig:
        """LLM_ENGINE=openai: the same loop bounds, the OPENAI_* server and models (the key is
        optional: local servers take none)."""
        if not settings.openai_base_url or not settings.openai_specialist_model:
            raise ValueError("OPENAI_BASE_URL and OPENAI_SPECIALIST_MODEL are required for LLM_ENGINE=openai")
        return cls(
            api_key=settings.openai_api_key or "",
            base_url=settings.openai_base_url,
            specialist_model=settings.openai_specialist_model,
            synthesis_model=settings.openai_synthesis_model or settings.openai_specialist_model,
            **_loop_bounds(settings),
            supports_tools=settings.openai_supports_tools,
        )

    def price_table(self) -> PriceTable:
        return PriceTable(self.prices)


def _loop_bounds(settings: Settings) -> dict[str, Any]:
    """What both engines take from the same settings: the loop's bounds and the prices."""
    return {
        "max_steps": settings.max_steps,
        "max_tokens": settings.llm_max_tokens,
        "timeout_s": settings.llm_timeout_s,
        "max_retries": settings.llm_max_retries,
        "tool_timeout_s": settings.tool_timeout_s,
        "tool_result_max_chars": settings.tool_result_max_chars,
        "prices": settings.llm_prices,
    }


def build_client(config: LlmConfig) -> AsyncAnthropic:
    """The explicit api_key keeps the SDK from reading credentials from env or profile files."""
    return AsyncAnthropic(
        api_key=config.api_key,
        base_url=config.base_url,
        timeout=Timeout(config.timeout_s, connect=CONNECT_TIMEOUT_S),
        max_retries=config.max_retries,
    )

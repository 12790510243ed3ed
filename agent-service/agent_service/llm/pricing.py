"""Per-model prices (USD per million tokens) and the cost of one call's usage.

Defaults are Anthropic's list prices (5-minute cache writes); `LLM_PRICES` in the environment
(JSON: {"model": {"input": 1, "output": 5, "cache_read": 0.1, "cache_write": 1.25}}) adds or
replaces models. A dated model id (`claude-haiku-4-5-20251001`) is priced as its alias.
"""

from __future__ import annotations

from collections.abc import Mapping

from agent_service.prices import ModelPrice


DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-haiku-4-5": ModelPrice(input=1.0, output=5.0, cache_read=0.10, cache_write=1.25),
    "claude-sonnet-4-6": ModelPrice(input=3.0, output=15.0, cache_read=0.30, cache_write=3.75),
    "claude-sonnet-4-5": ModelPrice(input=3.0, output=15.0, cache_read=0.30, cache_write=3.75),
    "claude-opus-4-6": ModelPrice(input=5.0, output=25.0, cache_read=0.50, cache_write=6.25),
}

_PER_TOKEN = 1_000_000


class PriceTable:
    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self._prices = {**DEFAULT_PRICES, **(overrides or {})}

    def price(self, model: str) -> ModelPrice | None:
        if model in self._prices:
            return self._prices[model]
        # the longest alias the model id starts with: "claude-haiku-4-5-20251001" → "claude-haiku-4-5"
        matches = [alias for alias in self._prices if model.startswith(alias + "-")]
        return self._prices[max(matches, key=len)] if matches else None

    def cost(
        self,
        model: str,
        *,
        input_tokens: int,
        output_tokens: int,
        cache_read_input_tokens: int = 0,
        cache_creation_input_tokens: int = 0,
    ) -> float:
        """USD for one call; 0.0 for a model missing from the table (its tokens are still counted)."""
        price = self.price(model)
        if price is None:
            return 0.0
        return (
            input_tokens * price.input
            + output_tokens * price.output
            + cache_read_input_tokens * price.cache_read
            + cache_creation_input_tokens * price.cache_write
        ) / _PER_TOKEN

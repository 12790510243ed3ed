"""One Messages API call through the SDK, with its usage and cost accounted and metered."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from anthropic import AsyncAnthropic
from anthropic.types import Message

from agent_service.engine import Usage
from agent_service.llm.metrics import LlmMetrics, LlmRole
from agent_service.llm.pricing import PriceTable

log = logging.getLogger(__name__)


class LlmCaller:
    def __init__(self, client: AsyncAnthropic, prices: PriceTable, metrics: LlmMetrics | None = None) -> None:
        self.client = client
        self.prices = prices
        self.metrics = metrics
        self._unpriced: set[str] = set()

    async def create(self, *, role: LlmRole, model: str, usage: Usage, **params: Any) -> Message:
        """messages.create (the SDK retries 408/409/429/5xx itself); adds the call's usage to `usage`.
        Errors after the SDK's retries propagate as anthropic.APIError."""
        try:
            response = await self.client.messages.create(model=model, **params)
        except BaseException as exc:  # cancelled = the orchestrator's deadline cut the call
            if self.metrics:
                outcome = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
                self.metrics.call(model=model, role=role, outcome=outcome)
            raise
        self._account(model, role, response, usage)
        return response

    def _account(self, model: str, role: LlmRole, response: Message, usage: Usage) -> None:
        u = response.usage
        cache_read = u.cache_read_input_tokens or 0
        cache_creation = u.cache_creation_input_tokens or 0
        cost = self.prices.cost(
            model,
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cache_read_input_tokens=cache_read,
            cache_creation_input_tokens=cache_creation,
        )
        if self.prices.price(model) is None and model not in self._unpriced:
            self._unpriced.add(model)
            log.warning("no price for model %s: its cost counts as 0 (set LLM_PRICES)", model)
        usage.add(
            Usage(
                llm_calls=1,
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cache_read_input_tokens=cache_read,
                cache_creation_input_tokens=cache_creation,
                cost_usd=cost,
                by_model={model: 1},
            )
        )
        if self.metrics:
            self.metrics.call(
                model=model,
                role=role,
                outcome="ok",
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cache_read=cache_read,
                cache_creation=cache_creation,
                cost_usd=cost,
            )

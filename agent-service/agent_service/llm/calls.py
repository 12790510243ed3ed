"""One model API call, with its usage and cost accounted and metered (any SDK: the caller
says how to read the tokens of its response)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from anthropic import AsyncAnthropic
from anthropic.types import Message

from agent_service.engine import Usage
from agent_service.llm.metrics import LlmMetrics, LlmRole
from agent_service.llm.pricing import PriceTable

log = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(frozen=True)
class Tokens:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0


class CallMeter:
    def __init__(self, prices: PriceTable, metrics: LlmMetrics | None = None) -> None:
        self.prices = prices
        self.metrics = metrics
        self._unpriced: set[str] = set()

    async def run(
        self, send: Awaitable[R], *, role: LlmRole, model: str, usage: Usage, tokens: Callable[[R], Tokens]
    ) -> R:
        """Awaits `send` and adds the call's usage to `usage`. Errors (after the SDK's own
        retries) propagate; a cancelled call is the orchestrator's deadline."""
        try:
            response = await send
        except BaseException as exc:
            if self.metrics:
                outcome = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
                self.metrics.call(model=model, role=role, outcome=outcome)
            raise
        self.account(model, role, tokens(response), usage)
        return response

    def account(self, model: str, role: LlmRole, t: Tokens, usage: Usage) -> None:
        cost = self.prices.cost(
            model,
            input_tokens=t.input,
            output_tokens=t.output,
            cache_read_input_tokens=t.cache_read,
            cache_creation_input_tokens=t.cache_creation,
        )
        if self.prices.price(model) is None and model not in self._unpriced:
            self._unpriced.add(model)
            log.warning("no price for model %s: its cost counts as 0 (set LLM_PRICES)", model)
        usage.add(
            Usage(
                llm_calls=1,
                input_tokens=t.input,
                output_tokens=t.output,
                cache_read_input_tokens=t.cache_read,
                cache_creation_input_tokens=t.cache_creation,
                cost_usd=cost,
                by_model={model: 1},
            )
        )
        if self.metrics:
            self.metrics.call(
                model=model,
                role=role,
                outcome="ok",
                input_tokens=t.input,
                output_tokens=t.output,
                cache_read=t.cache_read,
                cache_creation=t.cache_creation,
                cost_usd=cost,
            )


def anthropic_tokens(response: Message) -> Tokens:
    u = response.usage
    return Tokens(
        input=u.input_tokens,
        output=u.output_tokens,
        cache_read=u.cache_read_input_tokens or 0,
        cache_creation=u.cache_creation_input_tokens or 0,
    )


class LlmCaller:
    """Messages API calls (the SDK retries 408/409/429/5xx itself)."""

    def __init__(self, client: AsyncAnthropic, prices: PriceTable, metrics: LlmMetrics | None = None) -> None:
        self.client = client
        self.meter = CallMeter(prices, metrics)

    async def create(self, *, role: LlmRole, model: str, usage: Usage, **params: Any) -> Message:
        send = self.client.messages.create(model=model, **params)
        return await self.meter.run(send, role=role, model=model, usage=usage, tokens=anthropic_tokens)

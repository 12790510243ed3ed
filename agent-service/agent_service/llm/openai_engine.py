"""OpenAIEngine: the Engine protocol over an OpenAI-compatible chat-completions API (Ollama,
vLLM, llama.cpp server, LM Studio, hosted APIs) through the real openai SDK; the loop is
engine_core's, shared with the Claude engine.

With `supports_tools=False` the model never calls tools: the engine runs the specialist's own
tools once with the analysis defaults, hands the results over as tool messages, and asks for the
finding as JSON (one forced turn, plus the repair turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openai import APIConnectionError, APIStatusError, APITimeoutError, AsyncOpenAI, Timeout

from agent_service.engine import SpecialistSpec, Usage
from agent_service.llm.calls import CallMeter
from agent_service.llm.client import CONNECT_TIMEOUT_S, LlmConfig
from agent_service.llm.engine_core import CONTEXT_TOOL, ApiErrors, LoopEngine
from agent_service.llm.loop import LoopOutcome, run_specialist_loop
from agent_service.llm.metrics import LlmMetrics
from agent_service.llm.openai_chat import OpenAIChat, OpenAIChats
from agent_service.llm.openai_parse import new_call_id
from agent_service.llm.tool_runner import ToolRunner
from agent_service.llm.turns import Chat, Seed, ToolCall
from agent_service.models import EngineKind
from agent_service.prompts import render
from agent_service.tools.base import Tool

OPENAI_ERRORS = ApiErrors("the OpenAI-compatible API", APITimeoutError, APIConnectionError, APIStatusError)
NO_KEY = "no-key"  # the SDK wants a key; servers without auth ignore the header
MATERIAL_TOOL = "material"


def build_openai_client(config: LlmConfig) -> AsyncOpenAI:
    """Explicit key and base URL: the SDK never reads OPENAI_* from the environment itself."""
    return AsyncOpenAI(
        api_key=config.api_key or NO_KEY,
        base_url=config.base_url,
        timeout=Timeout(config.timeout_s, connect=CONNECT_TIMEOUT_S),
        max_retries=config.max_retries,
    )


class OpenAIEngine(LoopEngine):
    kind: EngineKind = "openai"

    def __init__(
        self, config: LlmConfig, *, client: AsyncOpenAI | None = None, metrics: LlmMetrics | None = None
    ) -> None:
        self.client = client or build_openai_client(config)
        self.meter = CallMeter(config.price_table(), metrics)
        self.openai_chats = OpenAIChats(
            self.client, self.meter, max_tokens=config.max_tokens, supports_tools=config.supports_tools
        )
        super().__init__(config, chats=self.openai_chats, errors=OPENAI_ERRORS, metrics=metrics)

    async def aclose(self) -> None:
        await self.client.close()

    async def run_loop(
        self, chat: Chat, runner: ToolRunner, spec: SpecialistSpec, tools: Sequence[Tool]
    ) -> LoopOutcome:
        if self.config.supports_tools or not isinstance(chat, OpenAIChat):
            return await super().run_loop(chat, runner, spec, tools)
        own = [t for t in tools if t.name in spec.tool_names and t.name != CONTEXT_TOOL]
        calls = [ToolCall(new_call_id(), t.name, {}) for t in own]
        chat.record(calls, await runner.run_turn(calls))
        return await run_specialist_loop(chat, runner, tool_definitions=[], max_steps=1)

    async def write(
        self, template: str, material: dict[str, Any], *, model: str | None = None, **values: Any
    ) -> tuple[str, Usage]:
        """Free text (e.g. an incident handoff); `material` travels only in a tool message.
        Raises on API errors."""
        usage = Usage()
        chat = self.openai_chats.open(
            role="handoff",
            model=model or self.config.synthesis_model,
            usage=usage,
            system=render(template, **values),
            intro=f"Write the text now, from the material in the `{MATERIAL_TOOL}` tool result.",
            seed=Seed(MATERIAL_TOOL, material),
        )
        turn = await chat.ask(tools=[], force=None)
        return turn.text, usage

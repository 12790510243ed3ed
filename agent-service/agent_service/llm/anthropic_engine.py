"""AnthropicEngine: the Engine protocol over the Messages API (real anthropic SDK); the loop
itself is engine_core's, shared with the OpenAI-compatible engine."""

from __future__ import annotations

import uuid
from typing import Any

from anthropic import APIConnectionError, APIStatusError, APITimeoutError, AsyncAnthropic

from agent_service.engine import Usage
from agent_service.llm.anthropic_chat import AnthropicChats
from agent_service.llm.calls import LlmCaller
from agent_service.llm.client import LlmConfig, build_client
from agent_service.llm.engine_core import (
    CONTEXT_TOOL,
    RESERVED,
    ApiErrors,
    ContextTool,
    LoopEngine,
    SynthesisFailed,
    context_payload,
)
from agent_service.llm.messages import seeded_messages, text_of
from agent_service.llm.metrics import LlmMetrics
from agent_service.models import EngineKind
from agent_service.prompts import render

__all__ = ["AnthropicEngine", "SynthesisFailed", "CONTEXT_TOOL", "RESERVED", "ContextTool", "context_payload"]

MATERIAL_TOOL = "material"
ANTHROPIC_ERRORS = ApiErrors("the Anthropic API", APITimeoutError, APIConnectionError, APIStatusError)


class AnthropicEngine(LoopEngine):
    kind: EngineKind = "anthropic"

    def __init__(
        self, config: LlmConfig, *, client: AsyncAnthropic | None = None, metrics: LlmMetrics | None = None
    ) -> None:
        self.client = client or build_client(config)
        self.caller = LlmCaller(self.client, config.price_table(), metrics)
        super().__init__(
            config, chats=AnthropicChats(self.caller, max_tokens=config.max_tokens), errors=ANTHROPIC_ERRORS,
            metrics=metrics,
        )

    async def aclose(self) -> None:
        await self.client.close()

    async def write(
        self, template: str, material: dict[str, Any], *, model: str | None = None, **values: Any
    ) -> tuple[str, Usage]:
        """Free text (e.g. an incident handoff). The template holds only our text; `material`
        (untrusted: incident data) travels only inside a tool_result block. Raises on API errors."""
        usage = Usage()
        definition = {
            "name": MATERIAL_TOOL,
            "description": "The material to write about.",
            "input_schema": {"type": "object", "properties": {}},
        }
        messages = seeded_messages(
            f"Write the text now, from the material in the `{MATERIAL_TOOL}` tool result.",
            tool_name=MATERIAL_TOOL,
            tool_use_id=f"toolu_mat_{uuid.uuid4().hex[:16]}",
            payload=material,
        )
        response = await self.caller.create(
            role="handoff",
            model=model or self.config.synthesis_model,
            usage=usage,
            max_tokens=self.config.max_tokens,
            system=[{"type": "text", "text": render(template, **values), "cache_control": {"type": "ephemeral"}}],
            tools=[{**definition, "cache_control": {"type": "ephemeral"}}],
            tool_choice={"type": "none"},
            messages=messages,
        )
        return text_of(response.content), usage

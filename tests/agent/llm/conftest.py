from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncio

import pytest

from agent_service.engine import AnalysisContext, SpecialistSpec
from agent_service.llm.client import LlmConfig
from agent_service.llm.anthropic_engine import AnthropicEngine
from agent_service.llm.openai_engine import OpenAIEngine
from agent_service.models import Scope, Window
from agent_service.tools.base import ToolResult
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI

API_KEY = "test-key-123"


class FakeTool:
    """A Tool with a scripted result; records its calls."""

    def __init__(
        self,
        name: str,
        data: Any = None,
        *,
        error: str | None = None,
        raises: Exception | None = None,
        run: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.name = name
        self.description = f"fake tool {name}"
        self.input_schema = {"type": "object", "properties": {"backend": {"type": "string"}}}
        self.data = data
        self.error = error
        self.raises = raises
        self._run = run
        self.calls: list[dict[str, Any]] = []

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        self.calls.append(arguments)
        if self._run is not None:
            return await self._run(arguments)
        if self.raises is not None:
            raise self.raises
        if self.error is not None:
            return ToolResult.fail(self.error)
        return ToolResult.ok(self.data)


@pytest.fixture
def fake_llm() -> Iterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic(api_key=API_KEY)
    with fake.serve() as url:
        yield fake, url


def config(url: str, **overrides: Any) -> LlmConfig:
    values: dict[str, Any] = {"api_key": API_KEY, "base_url": url, "max_steps": 4, "timeout_s": 10.0, "max_retries": 2}
    values.update(overrides)
    return LlmConfig(**values)


Engine = TypeVar("Engine", AnthropicEngine, OpenAIEngine)


async def _engines(kind: Callable[..., Engine], configure: Callable[..., LlmConfig]) -> AsyncIterator[Callable[..., Engine]]:
    engines: list[Engine] = []

    def make(url: str, **overrides: Any) -> Engine:
        metrics = overrides.pop("metrics", None)
        engine = kind(configure(url, **overrides), metrics=metrics)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.aclose()


@pytest.fixture
async def engine_for() -> AsyncIterator[Callable[..., AnthropicEngine]]:
    async for make in _engines(AnthropicEngine, config):
        yield make


@pytest.fixture
def fake_openai() -> Iterator[tuple[FakeOpenAI, str]]:
    """The fake chat-completions server and the SDK's base_url for it."""
    fake = FakeOpenAI(api_key=API_KEY)
    with fake.serve() as url:
        yield fake, f"{url}/v1"


def openai_config(base_url: str, **overrides: Any) -> LlmConfig:
    values: dict[str, Any] = {
        "api_key": API_KEY, "base_url": base_url, "specialist_model": "qwen2.5:7b", "synthesis_model": "qwen2.5:14b",
        "max_steps": 4, "timeout_s": 10.0, "max_retries": 2,
    }
    values.update(overrides)
    return LlmConfig(**values)


@pytest.fixture
async def openai_engine_for() -> AsyncIterator[Callable[..., OpenAIEngine]]:
    async for make in _engines(OpenAIEngine, openai_config):
        yield make


def spec(name: str = "latency", tools: tuple[str, ...] = ()) -> SpecialistSpec:
    return SpecialistSpec(
        name=name,  # type: ignore[arg-type]
        prompt=name,
        thresholds={"latency_p95_warning_ms": 500.0, "latency_p99_critical_ms": 1000.0},
        tool_names=tools,
    )


def context(question: str | None = None, backend: str | None = None) -> AnalysisContext:
    end = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    return AnalysisContext(
        window=Window(start=end - timedelta(minutes=15), end=end, seconds=900),
        scope=Scope(backend=backend),
        question=question,
    )


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool_result blocks of the last user message of a recorded request."""
    last = body["messages"][-1]
    assert last["role"] == "user"
    return [b for b in last["content"] if b.get("type") == "tool_result"]


def tool_uses(body: dict[str, Any], index: int) -> list[dict[str, Any]]:
    return [b for b in body["messages"][index]["content"] if b.get("type") == "tool_use"]


def tool_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The `tool` messages at the end of a recorded chat-completions request."""
    out: list[dict[str, Any]] = []
    for message in reversed(body["messages"]):
        if message["role"] != "tool":
            break
        out.insert(0, message)
    return out


def waiting_pair() -> tuple[FakeTool, FakeTool]:
    """Tools `a` and `b` that each wait for the other to start: run one after the other, they
    time out (concurrency shows without timing anything)."""
    started = {"a": asyncio.Event(), "b": asyncio.Event()}

    def waiting_for(me: str, other: str) -> Any:
        async def run(arguments: dict[str, Any]) -> ToolResult:
            started[me].set()
            await asyncio.wait_for(started[other].wait(), 5)
            return ToolResult.ok({"tool": me})

        return run

    return FakeTool("a", run=waiting_for("a", "b")), FakeTool("b", run=waiting_for("b", "a"))

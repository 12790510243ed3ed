"""Engine choice at start-up: LLM_ENGINE=auto|anthropic|rules|openai."""

from __future__ import annotations

from typing import Any

import pytest

from agent_service.app import create_app
from tests.agent.helpers import settings


@pytest.mark.parametrize(
    ("env", "kind"),
    [
        ({"llm_engine": "auto"}, "rules"),
        ({"llm_engine": "auto", "anthropic_api_key": "sk-test"}, "anthropic"),
        ({"llm_engine": "rules", "anthropic_api_key": "sk-test"}, "rules"),
        ({"llm_engine": "anthropic", "anthropic_api_key": "sk-test", "anthropic_base_url": "http://127.0.0.1:9"}, "anthropic"),
        ({"llm_engine": "openai", "openai_base_url": "http://127.0.0.1:9/v1", "openai_specialist_model": "m"}, "openai"),
    ],
)
async def test_engine_selection(fake_redis: Any, env: dict[str, str], kind: str) -> None:
    app = create_app(settings(alert_worker_enabled=False, **env), redis=fake_redis)
    async with app.router.lifespan_context(app):
        agent = app.state.agent
    assert agent.engine.kind == kind
    assert agent.analyzer.engine is agent.engine
    if kind == "anthropic":
        assert agent.engine.specialist_model == "claude-haiku-4-5"
        assert agent.engine.synthesis_model == "claude-sonnet-4-6"


def test_anthropic_without_a_key_fails_at_start_up_with_the_reason(fake_redis: Any) -> None:
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        create_app(settings(llm_engine="anthropic"), redis=fake_redis)


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="llm_engine"):
        settings(llm_engine="gpt")

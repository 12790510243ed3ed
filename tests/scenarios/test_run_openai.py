"""`make scenarios ENGINE=openai` offline: the harness's own stack with agent-service on
LLM_ENGINE=openai, its real openai SDK talking to the fake chat-completions server (a scripted
model that calls a tool, then says `ok`). Proves the wiring and the scoring, not a model's quality."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.openai_api import FakeOpenAI, agent_script
from tests.scenarios.run import main
from tests.support.binaries import require_binary


def test_the_scenario_harness_runs_against_an_openai_compatible_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_binary("redis-server")
    fake = FakeOpenAI().respond_with(agent_script(tool_turns=1))
    results = tmp_path / "scenarios.json"
    with fake.serve() as url:
        for name, value in {"OPENAI_BASE_URL": f"{url}/v1", "OPENAI_SPECIALIST_MODEL": "scripted-7b",
                            "OPENAI_API_KEY": "", "LLM_MAX_RETRIES": "0"}.items():
            monkeypatch.setenv(name, value)
        status = main(["--engine", "openai", "healthy-low-traffic", "deploy-regression", "--json", str(results)])
    written = json.loads(results.read_text())
    assert status == 1 and written["engine"] == "openai"  # the scripted `ok` fails the incident
    healthy, incident = written["scenarios"]
    assert healthy["score"]["passed"] is True and incident["score"]["passed"] is False
    assert healthy["score"]["engine"] == "openai" and healthy["score"]["input_tokens"] > 0
    assert len(fake.requests) >= 2 * (4 * 2 + 1)  # per analysis: 4 specialists × 2 turns + synthesis
    assert {r.body["model"] for r in fake.requests} == {"scripted-7b"}

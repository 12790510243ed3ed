"""Ingestion tools: typed arguments with the analysis defaults, contract shapes, errors as values."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from agent_service.ingestion_client import IngestionClient
from agent_service.tools.ingestion import Defaults, SourceTracker, cap
from agent_service.tools.registry import TOOL_NAMES, build_tools
from tests.agent.fake_ingestion import FakeIngestion, backend, overview, series
from tests.support.net import free_port

END = datetime(2026, 1, 1, 10, 15, tzinfo=UTC)


def make(fake: FakeIngestion, **defaults):
    tracker = SourceTracker()
    tools = build_tools(IngestionClient(fake.client()), Defaults(window="15m", end=END, **defaults), tracker)
    return tools, tracker


async def test_every_endpoint_has_a_tool_with_a_json_schema() -> None:
    tools, _ = make(FakeIngestion())
    assert set(tools) == set(TOOL_NAMES) and len(TOOL_NAMES) == 9
    for tool in tools.values():
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
        assert {"window", "end", "backend", "frontend"} <= set(tool.input_schema["properties"])
        assert tool.description
    assert "minutes" in tools["get_rps_series"].input_schema["properties"]


async def test_defaults_fill_the_query_and_the_model_can_override_them() -> None:
    fake = FakeIngestion().set("overview", overview(900, e5=9), backend="be_api")
    tools, tracker = make(fake, backend="be_api")
    result = await tools["get_overview"].run({})
    assert result.status == "ok" and result.data["total_requests"] == 900
    path, params = fake.calls[-1]
    assert path == "/metrics/overview"
    assert params == {"window": "15m", "end": "2026-01-01T10:15:00Z", "backend": "be_api"}
    await tools["get_overview"].run({"window": "5m", "backend": None, "frontend": "fe_main"})
    assert fake.calls[-1][1] == {"window": "5m", "end": "2026-01-01T10:15:00Z", "frontend": "fe_main"}
    assert tracker.ok == 2 and tracker.state == "ok"


async def test_rps_series_asks_for_the_window_in_minutes() -> None:
    fake = FakeIngestion().set("rps", series([60] * 60))
    tools, _ = make(fake)
    result = await tools["get_rps_series"].run({"window": "1h"})
    assert result.status == "ok" and len(result.data["series"]) == 60
    assert fake.calls[-1][1]["minutes"] == "60" and "window" not in fake.calls[-1][1]
    await tools["get_rps_series"].run({"minutes": 7})
    assert fake.calls[-1][1]["minutes"] == "7"


@pytest.mark.parametrize(
    "arguments",
    [{"window": "forever"}, {"window": "5m", "bogus": 1}, {"end": "yesterday"}, {"minutes": 0}],
)
async def test_bad_arguments_are_an_error_result_not_an_exception(arguments: dict) -> None:
    fake = FakeIngestion()
    tools, _ = make(fake)
    result = await tools["get_rps_series"].run(arguments)
    assert result.status == "error" and "invalid arguments" in (result.error or "")
    assert fake.calls == []


async def test_http_errors_and_bad_bodies_become_error_results() -> None:
    fake = FakeIngestion(fail={"backends": 500, "overview": 422})
    tools, tracker = make(fake)
    result = await tools["get_backends"].run({})
    assert result.status == "error" and "500" in (result.error or "")
    result = await tools["get_overview"].run({})
    assert result.status == "error" and "422" in (result.error or "") and "scripted failure" in (result.error or "")
    assert tracker.state == "ok"  # it answered: reachable, just unhappy

    def garbage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"backends": "not a list"})

    client = IngestionClient(httpx.AsyncClient(transport=httpx.MockTransport(garbage), base_url="http://x"))
    tools = build_tools(client, Defaults(window="5m", end=END), SourceTracker())
    result = await tools["get_backends"].run({})
    assert result.status == "error" and "unexpected answer" in (result.error or "")


async def test_unreachable_ingestion_is_tracked() -> None:
    client = IngestionClient.create(f"http://127.0.0.1:{free_port()}", timeout_s=1.0)
    tracker = SourceTracker()
    tools = build_tools(client, Defaults(window="5m", end=END), tracker)
    try:
        result = await tools["get_saturation"].run({})
    finally:
        await client.aclose()
    assert result.status == "error" and "unreachable" in (result.error or "")
    assert tracker.state == "unreachable"


async def test_termination_states_accept_a_bare_map() -> None:
    fake = FakeIngestion().set("termination_states", {"window_seconds": 300, "----": 90, "sH--": 10})
    tools, _ = make(fake)
    result = await tools["get_termination_states"].run({})
    assert result.data["termination_states"] == {"----": 90, "sH--": 10}


async def test_oversized_results_are_cut_with_a_note() -> None:
    many = {"backends": [backend(f"be_{i:04d}", 1000 - i) for i in range(2000)]}
    fake = FakeIngestion().set("backends", many)
    tools, _ = make(fake)
    result = await tools["get_backends"].run({})
    import json

    assert len(json.dumps(result.data)) <= 16_000
    assert 0 < len(result.data["backends"]) < 2000
    assert "narrow the query" in result.data["truncated"]
    assert result.data["backends"][0]["name"] == "be_0000"
    small = {"a": [1, 2, 3]}
    assert cap(small, 1000) is small

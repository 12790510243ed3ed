"""get_breakdown (and the Tr/retry fields of get_response_times, get_backends) against a real
ingestion-service app and a real redis-server, fed JSON entries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from agent_service.ingestion_client import IngestionClient
from agent_service.tools.ingestion import Defaults, SourceTracker
from agent_service.tools.registry import BACKENDS, BREAKDOWN, RESPONSE_TIMES, build_tools
from ingestion_service.app import create_app
from ingestion_service.settings import Settings
from tests.support.servers import serve_app

pytestmark = pytest.mark.real
END = datetime(2026, 11, 22, 14, 10, tzinfo=UTC)


def _entry(minute: int, second: int, backend: str, server: str, tr: int, **extra: object) -> dict[str, object]:
    return {"timestamp": f"2026-11-22T14:{minute:02d}:{second:02d}Z", "frontend": "fe_main", "backend": backend,
            "server": server, "status_code": 200, "response_time_ms": tr + 2, "time_response_ms": tr,
            "time_connect_ms": 1, "time_queue_ms": 0, **extra}


ENTRIES = [
    _entry(1, 0, "be_api", "api1", 10),  # baseline (the 5 minutes before 14:05)
    _entry(2, 0, "be_api", "api1", 12),
    _entry(6, 0, "be_api", "api1", 900, retries=3, redispatched=True, termination_state="SC--", status_code=503),
    _entry(7, 0, "be_api", "api2", 20, termination_state="cD--"),
    _entry(8, 0, "be_web", "web1", 5),
]


@pytest.fixture
def ingestion(redis_url: str) -> Iterator[str]:
    with serve_app(create_app(Settings(redis_url=redis_url, parse_workers=0))) as url:
        r = httpx.post(url + "/logs", content=json.dumps(ENTRIES), headers={"Content-Type": "application/json"})
        assert r.status_code == 202 and r.json()["accepted"] == len(ENTRIES), r.text
        yield url


async def _tools(url: str, **defaults: str) -> tuple[dict, IngestionClient]:  # type: ignore[type-arg]
    client = IngestionClient.create(url, timeout_s=10)
    return build_tools(client, Defaults(window="5m", end=END, **defaults), SourceTracker()), client


async def test_get_breakdown_passes_every_scope_through(ingestion: str) -> None:
    tools, client = await _tools(ingestion)
    try:
        result = await tools[BREAKDOWN].run({"baseline": "5m"})
        assert result.status == "ok", result.error
        data = result.data
        assert data["window"]["start"] == "2026-11-22T14:05:00Z" and data["baseline"]["start"] == "2026-11-22T14:00:00Z"
        names = [(s["kind"], s["name"]) for s in data["scopes"]]
        assert names == [("site", ""), ("frontend", "fe_main"), ("backend", "be_api"), ("backend", "be_web"),
                         ("server", "be_api/api1"), ("server", "be_api/api2"), ("server", "be_web/web1")]
        api = data["scopes"][2]
        assert api["routes"] == ["fe_main"] and api["backend"] == "be_api"
        w = api["window"]
        counts = (w["requests"], w["retries"], w["retried_requests"], w["redispatches"], w["client_aborts"])
        assert counts == (2, 3, 1, 1, 1)
        assert w["terminations"] == {"SC--": 1, "cD--": 1} and w["tr"]["max_ms"] == 900
        assert w["tr"]["p50_ms"] == pytest.approx(20, rel=0.01) and w["tc_mean_ms"] == 1.0
        assert api["baseline"]["requests"] == 2 and api["baseline"]["tr"]["mean_ms"] == 11.0
        assert api["window_minutes"]["redispatches"] == [0, 1, 0, 0, 0]
        assert api["window_minutes"]["server_failures"] == [0, 1, 0, 0, 0]
        only = await tools[BREAKDOWN].run({"backend": "be_web", "baseline": "5m",
                                            "baseline_end": "2026-11-22T14:03:00Z"})
        assert only.status == "ok" and "truncated" not in only.data
        assert [s["name"] for s in only.data["scopes"]] == ["", "fe_main", "be_web", "be_web/web1"]
        assert only.data["baseline"]["end"] == "2026-11-22T14:03:00Z"
    finally:
        await client.aclose()


async def test_get_breakdown_bad_arguments_are_error_results(ingestion: str) -> None:
    tools, client = await _tools(ingestion)
    try:
        bad = await tools[BREAKDOWN].run({"baseline": "forever"})
        assert bad.status == "error" and "baseline" in (bad.error or "")
        rejected = await tools[BREAKDOWN].run({"baseline_end": "2100-01-01T00:00:00Z"})
        assert rejected.status == "error" and "baseline_end" in (rejected.error or "")
        schema = tools[BREAKDOWN].input_schema
        assert {"window", "end", "backend", "frontend", "baseline", "baseline_end"} == set(schema["properties"])
        assert "baseline" in tools[BREAKDOWN].description and "Tr" in tools[RESPONSE_TIMES].description
    finally:
        await client.aclose()


async def test_response_times_and_backends_tools_carry_tr_and_retries(ingestion: str) -> None:
    tools, client = await _tools(ingestion, backend="be_api")
    try:
        times = await tools[RESPONSE_TIMES].run({})
        assert times.status == "ok" and times.data["tr"]["count"] == 2 and times.data["tr"]["max_ms"] == 900
        rows = await tools[BACKENDS].run({"backend": None})
        api = next(b for b in rows.data["backends"] if b["name"] == "be_api")
        assert (api["retries"], api["redispatches"], api["client_aborts"]) == (3, 1, 1)
        assert api["tr_p95_ms"] == pytest.approx(20, rel=0.01)  # rank floor(0.95 * 1) of 20, 900
        assert {s["name"]: s["redispatches"] for s in api["servers"]} == {"api1": 1, "api2": 0}
    finally:
        await client.aclose()


def test_the_model_sees_a_big_breakdown_cut_by_whole_scopes() -> None:
    """The rules engine reads every scope; a model's tool result keeps whole scopes and says it was cut."""
    import json

    from agent_service.tools.ingestion import cap

    scopes = [{"kind": "backend", "name": f"be_{i}", "window": {"requests": i}} for i in range(400)]
    seen = cap({"window": {}, "scopes": scopes}, 4000)
    assert len(json.dumps(seen)) <= 4000 and 0 < len(seen["scopes"]) < 400
    assert seen["scopes"] == scopes[: len(seen["scopes"])] and "narrow the query" in seen["truncated"]

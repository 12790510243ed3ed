"""Finding 9 of the second hardening round: 250 junk backends fill NAME_CAP; a real new backend is
folded into __other__ at first, and gets its own name in the next hour (the clock is injected);
names admitted in the previous hour stay themselves; the flood shows in a metric."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ingestion_service.app import create_app
from ingestion_service.settings import Settings
from tests.support.servers import serve_app

pytestmark = pytest.mark.real
END = "2026-11-22T14:05:00Z"
LINE = '10.0.0.1:4000 [22/Nov/2026:14:03:17.032] fe {be}/s1 0/0/1/7/12 200 185 - - ---- 1/1/0/0/0 0/0 "GET /a HTTP/1.1"'


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stack(redis_url: str) -> Iterator[tuple[httpx.Client, Clock]]:
    clock = Clock()
    settings = Settings(redis_url=redis_url, parse_workers=0, late_line_seconds=10 * 365 * 86400, log_json=False)
    with serve_app(create_app(settings, clock=clock)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, clock


def _post(client: httpx.Client, backends: list[str]) -> None:
    r = client.post("/logs", content="\n".join(LINE.format(be=b) for b in backends),
                    headers={"Content-Type": "text/plain"})
    assert r.status_code == 202 and r.json()["accepted"] == len(backends), r.text


def _requests_by_backend(client: httpx.Client) -> dict[str, int]:
    rows = client.get("/metrics/backends", params={"window": "5m", "end": END}).json()["backends"]
    return {row["name"]: row["requests"] for row in rows}


def test_a_junk_flood_ages_out_and_a_real_backend_gets_its_name(stack: tuple[httpx.Client, Clock]) -> None:
    client, clock = stack
    _post(client, [f"junk{i}" for i in range(250)])  # NAME_CAP is 200
    _post(client, ["be_real"])
    seen = _requests_by_backend(client)
    assert "be_real" not in seen and seen["__other__"] == 51
    kept = next(n for n in seen if n.startswith("junk"))  # one of the 200 admitted (which: set order)
    folded = 'oncall_ingest_names_folded_total{kind="backend"} 51.0'
    assert folded in client.get("/prometheus/metrics").text

    clock.now += 3600  # the next hour: last hour's names keep theirs, new ones find free slots
    _post(client, ["be_real", kept])
    seen = _requests_by_backend(client)
    assert seen["be_real"] == 1 and seen[kept] == 2 and seen["__other__"] == 51

    clock.now += 2 * 3600  # the flood stopped two hours ago: its names hold no slots at all
    _post(client, [f"new{i}" for i in range(200)])
    seen = _requests_by_backend(client)
    assert all(seen.get(f"new{i}") == 1 for i in range(200)), sorted(seen)[:5]
    assert folded in client.get("/prometheus/metrics").text  # nothing more folded

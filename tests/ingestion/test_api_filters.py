"""Cross filters on /metrics/backends and /metrics/frontends, and lines kept out of the present-time
Prometheus series when late (real redis-server, real service over HTTP)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from ingestion_service.app import create_app
from ingestion_service.haproxy.timestamps import format_accept_date
from ingestion_service.settings import Settings
from tests.support.servers import serve_app

END = "2026-11-22T14:05:00Z"


def _line(fe: str, be: str, srv: str, status: int, ta: int, date: str = "22/Nov/2026:14:03:17.032") -> str:
    return f'10.0.0.1:4000 [{date}] {fe} {be}/{srv} 0/0/1/2/{ta} {status} 185 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"'


@pytest.fixture
def api(redis_url: str) -> Iterator[httpx.Client]:
    settings = Settings(redis_url=redis_url, parse_workers=0, late_line_seconds=300)
    with serve_app(create_app(settings)) as url:
        with httpx.Client(base_url=url, timeout=10) as client:
            yield client


def _post(api: httpx.Client, lines: list[str]) -> dict[str, object]:
    r = api.post("/logs", content="\n".join(lines), headers={"Content-Type": "text/plain"})
    assert r.status_code == 202, r.text
    return r.json()


def test_backends_filtered_by_frontend_and_back(api: httpx.Client) -> None:
    lines = ([_line("fe_web~", "be_shared", "s1", 200, 10)] * 6 + [_line("fe_api", "be_shared", "s1", 503, 900)] * 4
             + [_line("fe_api", "be_api", "a1", 200, 20)] * 5)
    assert _post(api, lines)["accepted"] == 15
    q = {"end": END, "window": "5m"}
    all_rows = {r["name"]: r for r in api.get("/metrics/backends", params=q).json()["backends"]}
    assert all_rows["be_shared"]["requests"] == 10
    web = api.get("/metrics/backends", params={**q, "frontend": "fe_web"}).json()["backends"]
    assert [(r["name"], r["requests"], r["error_rate_5xx_pct"]) for r in web] == [("be_shared", 6, 0.0)]
    assert web[0]["p95_ms"] is None  # be_shared is also fe_api's: the pair keeps counts, not latency
    api_rows = api.get("/metrics/backends", params={**q, "frontend": "fe_api"}).json()["backends"]
    assert [(r["name"], r["requests"]) for r in api_rows] == [("be_api", 5), ("be_shared", 4)]
    assert api_rows[0]["p95_ms"] is not None  # be_api is fe_api's alone: its own latency is exact
    fes = api.get("/metrics/frontends", params={**q, "backend": "be_shared"}).json()["frontends"]
    assert [(r["name"], r["requests"], r["error_rate_5xx_pct"]) for r in fes] == [("fe_web", 6, 0.0), ("fe_api", 4, 100.0)]
    one = api.get("/metrics/frontends", params={**q, "backend": "be_api", "frontend": "fe_web"}).json()
    assert one["frontends"] == []
    as_logged = api.get("/metrics/backends", params={**q, "frontend": "fe_web~"}).json()["backends"]
    assert as_logged == web  # the name as HAProxy logs it finds the stored one
    overview = api.get("/metrics/overview", params={**q, "frontend": "fe_web~"}).json()
    assert overview["total_requests"] == 6


def test_late_lines_stored_but_not_exported(api: httpx.Client) -> None:
    now_ms = int(time.time() * 1000)
    fresh = format_accept_date(now_ms)
    old = format_accept_date(now_ms - 2 * 3600 * 1000)
    answer = _post(api, [_line("fe", "be", "s1", 200, 10, fresh)] * 3 + [_line("fe", "be", "s1", 500, 10, old)] * 7)
    assert answer["accepted"] == 10
    text = api.get("/prometheus/metrics").text
    assert 'oncall_requests_total{backend="be",code_class="2xx",frontend="fe",server="s1"} 3.0' in text
    assert 'code_class="5xx"' not in text  # the two-hour-old lines do not raise the present counters
    assert "oncall_ingest_late_lines_total 7.0" in text
    stored = api.get("/metrics/overview", params={"window": "5m", "end": _iso(now_ms - 2 * 3600 * 1000 + 60_000)}).json()
    assert stored["total_requests"] == 7  # ... but they are in their minutes


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))

"""GET /metrics/backends: per-server breakdown (`servers`), against a real redis-server."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import httpx
import pytest

from agent_service.ingestion_client import Backends
from ingestion_service.app import create_app
from ingestion_service.settings import Settings
from tests.support.servers import serve_app

pytestmark = pytest.mark.real
END = "2026-11-22T14:10:00Z"
LINE = ('10.0.0.1:4000 [22/Nov/2026:14:{m:02d}:{s:02d}.032] fe_main {be}/{srv} 0/0/1/7/{ta} {status} 185 - - ---- '
        '1/1/0/0/0 0/0 "GET /a HTTP/1.1"')


def _lines(seed: int) -> tuple[list[str], dict[tuple[str, str], list[tuple[int, int]]]]:
    """Seeded lines over 5 minutes: be_pay's pay2 fails, every server has its own latency."""
    rng = random.Random(seed)
    servers = {("be_pay", "pay1"): (40, 0.002), ("be_pay", "pay2"): (90, 0.3), ("be_pay", "pay3"): (40, 0.002),
               ("be_web", "web1"): (12, 0.0), ("be_web", "web2"): (300, 0.01)}
    truth: dict[tuple[str, str], list[tuple[int, int]]] = {k: [] for k in servers}
    lines = []
    for i in range(6000):
        key = rng.choice(list(servers))
        median, p5xx = servers[key]
        ta = max(1, int(rng.lognormvariate(math.log(median), 0.8)))
        status = 503 if rng.random() < p5xx else 200
        truth[key].append((ta, status))
        lines.append(LINE.format(m=5 + i % 5, s=i % 60, be=key[0], srv=key[1], ta=ta, status=status))
    return lines, truth


def _exact(values: list[int], q: float) -> float:
    return sorted(values)[math.floor(q * (len(values) - 1))]


def _serve(redis_url: str, **extra: int) -> Iterator[httpx.Client]:
    settings = Settings(redis_url=redis_url, parse_workers=0, **extra)
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


@pytest.fixture
def api(redis_url: str) -> Iterator[httpx.Client]:
    yield from _serve(redis_url)


def _post(api: httpx.Client, lines: list[str]) -> None:
    for i in range(0, len(lines), 1000):  # several batches: the window merges several writes
        r = api.post("/logs", content="\n".join(lines[i:i + 1000]), headers={"Content-Type": "text/plain"})
        assert r.status_code == 202, r.text


def _check(api: httpx.Client, truth: dict[tuple[str, str], list[tuple[int, int]]], *, with_servers: bool) -> dict:  # type: ignore[type-arg]
    body = api.get("/metrics/backends", params={"window": "15m", "end": END}).json()
    rows = {b["name"]: b for b in body["backends"]}
    for be in ("be_pay", "be_web"):
        mine = [v for (b, _), vs in truth.items() if b == be for v in vs]
        tas = [ta for ta, _ in mine]
        row = rows[be]
        assert row["requests"] == len(mine)
        assert row["error_rate_5xx_pct"] == pytest.approx(100 * sum(s == 503 for _, s in mine) / len(mine), abs=0.001)
        assert row["p95_ms"] == pytest.approx(_exact(tas, 0.95), rel=0.01)
        assert row["p99_ms"] == pytest.approx(_exact(tas, 0.99), rel=0.01)
        if not with_servers:
            continue
        servers = {s["name"]: s for s in row["servers"]}
        assert set(servers) == {srv for (b, srv) in truth if b == be}
        assert [s["requests"] for s in row["servers"]] == sorted((s["requests"] for s in row["servers"]), reverse=True)
        for (b, srv), values in truth.items():
            if b != be:
                continue
            s = servers[srv]
            errors = sum(st == 503 for _, st in values)
            assert (s["requests"], s["errors_5xx"]) == (len(values), errors)
            assert s["error_rate_5xx_pct"] == pytest.approx(100 * errors / len(values), abs=0.001)
            assert s["p95_ms"] == pytest.approx(_exact([ta for ta, _ in values], 0.95), rel=0.01)
    return body


def test_servers_per_backend_match_the_lines(api: httpx.Client) -> None:
    lines, truth = _lines(7)
    _post(api, lines)
    body = _check(api, truth, with_servers=True)
    only = api.get("/metrics/backends", params={"window": "15m", "end": END, "backend": "be_web"}).json()
    assert [b["name"] for b in only["backends"]] == ["be_web"]
    assert {s["name"] for s in only["backends"][0]["servers"]} == {"web1", "web2"}
    # the agent's client model takes it
    parsed = Backends.model_validate(body)
    assert {s["name"] for b in parsed.backends if b.name == "be_pay" for s in b.servers} >= {"pay2"}
    assert set(body["backends"][0]["servers"][0]) == {"name", "requests", "errors_5xx", "error_rate_5xx_pct", "p95_ms",
                                                          "tr_p95_ms", "retries", "redispatches", "client_aborts"}
    empty = api.get("/metrics/backends", params={"window": "5m", "end": "2026-11-22T15:00:00Z"}).json()
    assert all(b["requests"] == 0 and all(s["requests"] == 0 for s in b["servers"]) for b in empty["backends"])


def test_servers_over_the_name_cap_still_give_exact_backend_signals(redis_url: str) -> None:
    """With 2 server names admitted, the others count under `__other__`: the backends' own buckets
    are read then, and `servers` lists only the admitted ones."""
    lines, truth = _lines(11)
    for api in _serve(redis_url, server_name_cap=2):
        _post(api, lines)
        body = _check(api, truth, with_servers=False)
        listed = [s["name"] for b in body["backends"] for s in b["servers"]]
        assert len(listed) == 2 and "__other__" not in listed


def test_frontends_have_no_servers(api: httpx.Client) -> None:
    lines, _ = _lines(3)
    _post(api, lines)
    fe = api.get("/metrics/frontends", params={"window": "15m", "end": END}).json()["frontends"]
    assert fe[0]["name"] == "fe_main" and fe[0]["requests"] == 6000 and "servers" not in fe[0]

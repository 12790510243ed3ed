"""The edges every service shares, checked on the real apps (not a toy app): body limits (413,
declared or streamed, nothing written), CORS off by default and strict when on, security headers
on every answer (errors too), /docs and /openapi.json off with DOCS_ENABLED=false; and the
ingestion name cap against a hostile flood of distinct backend names (Redis key count bounded)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.hardening.apps import agent_app, ingestion_app, notifier_app
from tests.support.servers import serve_app

pytestmark = pytest.mark.real

LIMIT = 4096
LINE = ('10.0.0.1:4000 [22/Nov/2026:14:03:17.032] fe {backend}/app1 0/0/1/7/{ta} 200 185 - - ---- '
        '1/1/0/0/0 0/0 "GET /a HTTP/1.1"')
SERVICES = ["ingestion", "agent", "notifier"]
WRITE = {"ingestion": ("/logs", "text/plain"), "agent": ("/analyze", "application/json"),
         "notifier": ("/notify", "application/json")}


def _app(service: str, redis_url: str, **overrides: object) -> FastAPI:
    return {"ingestion": ingestion_app, "agent": agent_app, "notifier": notifier_app}[service](
        redis_url, **overrides)  # type: ignore[operator]


def _keys(redis_url: str) -> int:
    return int(redis.Redis.from_url(redis_url).dbsize())


def _chunks() -> Iterator[bytes]:
    """A body with no Content-Length: the limit must hold on the stream too."""
    for _ in range(LIMIT // 512 + 2):
        yield b"y" * 512


@pytest.mark.parametrize("service", SERVICES)
def test_body_over_the_declared_limit_is_413(service: str, redis_url: str) -> None:
    path, kind = WRITE[service]
    with serve_app(_app(service, redis_url, max_body_bytes=LIMIT)) as url, httpx.Client(base_url=url) as client:
        declared = client.post(path, content=b"x" * (LIMIT + 1), headers={"Content-Type": kind})
        under = client.post(path, content=b"{}" if kind.endswith("json") else b"", headers={"Content-Type": kind})
    assert declared.status_code == 413, declared.text
    assert str(LIMIT) in declared.json()["detail"]
    assert declared.headers["x-content-type-options"] == "nosniff"
    assert under.status_code != 413
    if service == "ingestion":
        assert _keys(redis_url) == 0  # nothing of the refused batch reached Redis


@pytest.mark.parametrize("service", SERVICES)
def test_body_over_the_limit_without_content_length_is_413(service: str, redis_url: str) -> None:
    path, kind = WRITE[service]
    with serve_app(_app(service, redis_url, max_body_bytes=LIMIT)) as url, httpx.Client(base_url=url) as client:
        streamed = client.post(path, content=_chunks(), headers={"Content-Type": kind})
    assert streamed.status_code == 413, streamed.text
    assert str(LIMIT) in streamed.json()["detail"]
    if service == "ingestion":
        assert _keys(redis_url) == 0


def test_ingestion_batch_over_the_limit_is_refused_whole(redis_url: str) -> None:
    """A batch of valid lines just past the limit: 413 and not one line of it counted."""
    lines = []
    while sum(len(x) + 1 for x in lines) <= LIMIT:
        lines.append(LINE.format(backend="be", ta=len(lines)))
    entries = [{"timestamp": "2026-11-22T14:03:17Z", "frontend": "fe", "backend": "be", "server": "s",
                "status_code": 200, "response_time_ms": i} for i in range(60)]
    with serve_app(ingestion_app(redis_url, max_body_bytes=LIMIT)) as url:
        text = httpx.post(url + "/logs", content="\n".join(lines), headers={"Content-Type": "text/plain"})
        array = httpx.post(url + "/logs", content=json.dumps(entries), headers={"Content-Type": "application/json"})
        ok = httpx.post(url + "/logs", content="\n".join(lines[:5]), headers={"Content-Type": "text/plain"})
    assert text.status_code == 413 and array.status_code == 413
    assert ok.status_code == 202 and ok.json()["accepted"] == 5


@pytest.mark.parametrize("service", SERVICES)
def test_cors_is_off_by_default(service: str, redis_url: str) -> None:
    with TestClient(_app(service, redis_url)) as client:
        simple = client.get("/health", headers={"Origin": "https://evil.example"})
        preflight = client.options(WRITE[service][0], headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization"})
    for response in (simple, preflight):
        assert not any(h.startswith("access-control-") for h in response.headers), response.headers
    assert preflight.status_code in (404, 405)


def test_cors_when_configured_allows_only_the_listed_origin(redis_url: str) -> None:
    with TestClient(ingestion_app(redis_url, cors_origins=["https://ops.example"])) as client:
        good = client.options("/logs", headers={"Origin": "https://ops.example", "Access-Control-Request-Method": "POST"})
        evil = client.options("/logs", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        evil_get = client.get("/health", headers={"Origin": "https://evil.example"})
    assert good.headers["access-control-allow-origin"] == "https://ops.example"
    assert "access-control-allow-origin" not in evil.headers and evil.status_code == 400
    assert "access-control-allow-origin" not in evil_get.headers
    assert "*" not in good.headers.get("access-control-allow-origin", "")


@pytest.mark.parametrize("service", SERVICES)
def test_security_headers_on_every_kind_of_answer(service: str, redis_url: str) -> None:
    path, kind = WRITE[service]
    with TestClient(_app(service, redis_url, max_body_bytes=LIMIT), raise_server_exceptions=False) as client:
        answers = [
            client.get("/health"),
            client.get("/prometheus/metrics"),
            client.get("/no/such/path"),
            client.post(path, content=b"\xff\xfe not json", headers={"Content-Type": kind}),
            client.post(path, content=b"z" * (LIMIT + 10), headers={"Content-Type": kind}),
        ]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "server" not in response.headers or "uvicorn" not in response.headers["server"]


@pytest.mark.parametrize("service", SERVICES)
def test_docs_and_schema_can_be_turned_off(service: str, redis_url: str) -> None:
    with TestClient(_app(service, redis_url, docs_enabled=False)) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
            assert client.get(path).status_code == 404, path
        assert client.get("/health").status_code == 200
    with TestClient(_app(service, redis_url)) as client:
        assert client.get("/openapi.json").status_code == 200  # on by default: the switch is real


def test_hostile_flood_of_distinct_backend_names_keeps_the_key_space_bounded(redis_url: str) -> None:
    """100k lines, each with a new backend name (and some over-long ones): every line is counted,
    but names past the cap fold into __other__, so Redis holds a bounded number of keys."""
    cap, total, per_batch = 50, 100_000, 20_000
    with serve_app(ingestion_app(redis_url, name_cap=cap, server_name_cap=100)) as url:
        with httpx.Client(base_url=url, timeout=120) as client:
            for start in range(0, total, per_batch):
                body = "\n".join(
                    LINE.format(backend=(f"be{i}" if i % 1000 else "L" * 300 + str(i)), ta=i % 700)
                    for i in range(start, start + per_batch))
                r = client.post("/logs", content=body, headers={"Content-Type": "text/plain"})
                assert r.status_code == 202, r.text
                assert r.json()["accepted"] == per_batch
            params = {"window": "5m", "end": "2026-11-22T14:05:00Z"}
            overview = client.get("/metrics/overview", params=params).json()
            backends = client.get("/metrics/backends", params=params).json()["backends"]
    assert overview["total_requests"] == total
    names = {b["name"] for b in backends}
    assert len(names) <= cap + 1 and "__other__" in names
    assert sum(b["requests"] for b in backends) == total
    assert not any(len(n) > 128 for n in names)
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    admitted = r.smembers("ing:names:b") - {"__other__"}
    assert len(admitted) == cap
    keys = r.dbsize()
    # scopes: site + 1 frontend + (cap + 1) backends + servers (≤ 100 + other), each one counters
    # hash plus a few histogram chunks, plus the name sets: far below one key per distinct name.
    assert keys < 1500, keys
    assert all(r.ttl(k) > 0 for k in r.scan_iter(count=1000))

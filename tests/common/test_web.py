from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import Depends
from prometheus_client import CollectorRegistry

from oncall_common.request_id import async_client, current_request_id
from oncall_common.security import BearerAuth
from oncall_common.settings import ServiceSettings
from oncall_common.web import create_base_app


def make_app(**overrides: object):
    settings = ServiceSettings(**overrides)  # type: ignore[arg-type]
    app = create_base_app(settings, service="test", registry=CollectorRegistry())
    auth = BearerAuth("s3cret", name="TEST_TOKEN")

    @app.post("/echo", dependencies=[Depends(auth)])
    async def echo(body: dict[str, int]) -> dict[str, object]:
        return {"body": body, "request_id": current_request_id()}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    @app.get("/redis-down")
    async def redis_down() -> None:
        import redis.exceptions

        raise redis.exceptions.ConnectionError("gone")

    return app


async def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t")


async def test_request_id_echoed_and_made() -> None:
    async with await client_for(make_app()) as client:
        given = await client.get("/health", headers={"X-Request-ID": "abc-123"})
        made = await client.get("/health")
        hostile = await client.get("/health", headers={"X-Request-ID": "x\" y <script>"})
    assert given.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 32
    assert hostile.headers["x-request-id"] != "x\" y <script>"


async def test_security_headers_present() -> None:
    async with await client_for(make_app()) as client:
        response = await client.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_bearer_auth_401_403_200() -> None:
    async with await client_for(make_app()) as client:
        missing = await client.post("/echo", json={"a": 1})
        wrong = await client.post("/echo", json={"a": 1}, headers={"Authorization": "Bearer nope"})
        right = await client.post(
            "/echo", json={"a": 1}, headers={"Authorization": "Bearer s3cret", "X-Request-ID": "rid-1"}
        )
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 403
    assert right.status_code == 200
    assert right.json() == {"body": {"a": 1}, "request_id": "rid-1"}


async def test_body_limit_413_and_validation_422() -> None:
    async with await client_for(make_app(max_body_bytes=1024)) as client:
        big = await client.post("/echo", content=b"{" + b" " * 5000 + b"}", headers={"Authorization": "Bearer s3cret"})
        bad = await client.post("/echo", json={"a": "not a number"}, headers={"Authorization": "Bearer s3cret"})
    assert big.status_code == 413
    assert "1024" in big.json()["detail"]
    assert bad.status_code == 422


async def test_redis_down_is_503_with_retry_after_and_bug_is_json_500() -> None:
    async with await client_for(make_app()) as client:
        down = await client.get("/redis-down")
        bug = await client.get("/boom", headers={"X-Request-ID": "rid-boom"})
    assert down.status_code == 503
    assert down.headers["retry-after"] == "1"
    assert bug.status_code == 500
    assert bug.json() == {"detail": "internal error", "request_id": "rid-boom"}


async def test_metrics_endpoint_and_docs_switch() -> None:
    async with await client_for(make_app()) as client:
        await client.get("/health")
        await client.post("/echo", json={"a": 1}, headers={"Authorization": "Bearer s3cret"})
        metrics = await client.get("/prometheus/metrics")
        docs = await client.get("/docs")
    assert metrics.status_code == 200
    assert 'handler="/echo"' in metrics.text
    assert docs.status_code == 200
    async with await client_for(make_app(docs_enabled=False)) as client:
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 404


async def test_request_id_propagates_to_outgoing_calls() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-request-id"))
        return httpx.Response(200)

    from oncall_common.request_id import set_request_id

    set_request_id("carried-1")
    async with async_client(transport=httpx.MockTransport(handler)) as client:
        await client.get("http://downstream/x")
    set_request_id(None)
    assert seen == ["carried-1"]


def test_json_logs_carry_service_and_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from oncall_common.logging import configure_logging
    from oncall_common.request_id import set_request_id

    configure_logging("svc-x")
    set_request_id("rid-log")
    logging.getLogger("t").warning("hello %s", "world")
    set_request_id(None)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "hello world"
    assert record["service"] == "svc-x"
    assert record["request_id"] == "rid-log"
    assert record["level"] == "WARNING"
    logging.getLogger().handlers.clear()


async def test_streamed_body_over_the_limit_is_413_even_on_a_pydantic_route() -> None:
    async def chunks():
        for _ in range(10):
            yield b" " * 512

    async with await client_for(make_app(max_body_bytes=1024)) as client:
        streamed = await client.post(
            "/echo", content=chunks(), headers={"Authorization": "Bearer s3cret", "Content-Type": "application/json"}
        )
    assert streamed.status_code == 413
    assert "1024" in streamed.json()["detail"]


async def test_bearer_scheme_in_openapi_and_other_schemes_are_missing_tokens() -> None:
    async with await client_for(make_app()) as client:
        schema = (await client.get("/openapi.json")).json()
        basic = await client.post("/echo", json={"a": 1}, headers={"Authorization": "Basic s3cret"})
        bare = await client.post("/echo", json={"a": 1}, headers={"Authorization": "Bearer "})
    assert schema["components"]["securitySchemes"]["TEST_TOKEN"] == {
        "type": "http", "scheme": "bearer", "description": "the TEST_TOKEN value"}
    assert schema["paths"]["/echo"]["post"]["security"] == [{"TEST_TOKEN": []}]
    assert (basic.status_code, basic.json()) == (401, {"detail": "missing bearer token"})
    assert bare.status_code == 401


async def test_bearer_auth_open_without_a_token() -> None:
    app = create_base_app(ServiceSettings(), service="test", registry=CollectorRegistry())

    @app.get("/open", dependencies=[Depends(BearerAuth(None, name="OPEN_TOKEN"))])
    async def open_route() -> dict[str, bool]:
        return {"ok": True}

    async with await client_for(app) as client:
        assert (await client.get("/open")).json() == {"ok": True}
        assert (await client.get("/open", headers={"Authorization": "Bearer anything"})).status_code == 200


async def test_ready_answers_while_redis_answers() -> None:
    import fakeredis

    from oncall_common.health import ready_router

    app = create_base_app(ServiceSettings(), service="test", registry=CollectorRegistry())
    server = fakeredis.FakeServer()
    fake = fakeredis.FakeAsyncRedis(server=server)
    app.include_router(ready_router(lambda: fake))
    async with await client_for(app) as client:
        ready = await client.get("/health/ready")
        server.connected = False
        down = await client.get("/health/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert down.status_code == 503


async def test_bearer_auth_accepts_any_of_several_tokens() -> None:
    app = create_base_app(ServiceSettings(), service="test", registry=CollectorRegistry(),
                          metrics_auth=BearerAuth("scrape", name="METRICS_TOKEN"))

    @app.get("/read", dependencies=[Depends(BearerAuth(("read", None, "write"), name="READ_TOKEN"))])
    async def read() -> dict[str, str]:
        return {"ok": "yes"}

    async with await client_for(app) as client:
        for token, code in (("read", 200), ("write", 200), ("scrape", 403), ("", 401)):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            assert (await client.get("/read", headers=headers)).status_code == code, token
        assert (await client.get("/prometheus/metrics")).status_code == 401
        assert (await client.get("/prometheus/metrics", headers={"Authorization": "Bearer scrape"})).status_code == 200

"""Every write operation of every service (found in its OpenAPI schema, so a new one is covered
the day it is added) answers 401 without a token and 403 with a wrong one, when its token is set."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.hardening.apps import agent_app, ingestion_app, notifier_app, write_routes

pytestmark = pytest.mark.real

INGEST, API, ALERTS, NOTIFY = "ingest-tok-1", "api-tok-2", "alerts-tok-3", "notifier-tok-4"
WRONG_CREDENTIALS = [
    "Bearer nope",
    "Bearer " + API + "x",  # a prefix of the presented value matches: still wrong
    "Bearer " + API[:-1],
    "Bearer " + INGEST.upper(),
]
MISSING = [None, "", "Bearer", "Bearer ", "Basic " + API, "Token " + API]


def _apps(redis_url: str) -> dict[str, tuple[FastAPI, Callable[[str], str]]]:
    """service → (app with every token set, path → the token that opens it)."""
    return {
        "ingestion": (ingestion_app(redis_url, ingest_token=INGEST), lambda path: INGEST),
        "agent": (agent_app(redis_url, api_token=API, alerts_token=ALERTS),
                  lambda path: ALERTS if path == "/alerts" else API),
        "notifier": (notifier_app(redis_url, notifier_token=NOTIFY), lambda path: NOTIFY),
    }


EXPECTED_WRITES = {
    "ingestion": {("POST", "/logs")},
    "agent": {("POST", "/alerts"), ("POST", "/analyze"), ("POST", "/incidents"),
              ("POST", "/incidents/1/notes"), ("POST", "/incidents/1/status")},
    "notifier": {("POST", "/notify"), ("POST", "/notifications/abc123/retry")},
}


def _headers(authorization: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return headers


@pytest.mark.parametrize("service", ["ingestion", "agent", "notifier"])
def test_every_write_endpoint_needs_its_token(service: str, redis_url: str) -> None:
    app, token_for = _apps(redis_url)[service]
    routes = write_routes(app)
    # the known writes are all there (a removed route would make this test vacuous)
    assert EXPECTED_WRITES[service] <= set(routes), routes
    with TestClient(app, raise_server_exceptions=False) as client:
        for method, path in routes:
            for authorization in MISSING:
                r = client.request(method, path, content=b"{}", headers=_headers(authorization))
                assert r.status_code == 401, (method, path, authorization, r.status_code, r.text)
                assert r.headers.get("www-authenticate") == "Bearer"
            for authorization in WRONG_CREDENTIALS:
                r = client.request(method, path, content=b"{}", headers=_headers(authorization))
                assert r.status_code == 403, (method, path, authorization, r.status_code, r.text)
            good = client.request(method, path, content=b"{}",
                                  headers=_headers("Bearer " + token_for(path)))
            assert good.status_code not in (401, 403, 500), (method, path, good.status_code, good.text)


def test_agent_tokens_are_not_interchangeable(redis_url: str) -> None:
    app, _ = _apps(redis_url)["agent"]
    with TestClient(app, raise_server_exceptions=False) as client:
        alerts_on_analyze = client.post("/analyze", json={}, headers={"Authorization": f"Bearer {ALERTS}"})
        api_on_alerts = client.post("/alerts", json={}, headers={"Authorization": f"Bearer {API}"})
        api_on_incident = client.post("/incidents", json={}, headers={"Authorization": f"Bearer {ALERTS}"})
    assert alerts_on_analyze.status_code == 403
    assert api_on_alerts.status_code == 403
    assert api_on_incident.status_code == 403


@pytest.mark.parametrize("service", ["ingestion", "agent", "notifier"])
def test_health_and_metrics_stay_open_for_probes(service: str, redis_url: str) -> None:
    app, _ = _apps(redis_url)[service]
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/health/ready").status_code == 200
        assert client.get("/prometheus/metrics").status_code == 200

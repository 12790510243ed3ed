"""Schemathesis against each service's own OpenAPI schema, served by uvicorn on loopback over a
real redis-server (the agent's ingestion is a real ingestion app; rules engine): a bounded number
of generated requests per operation; no 5xx, and every response matches the schema it declares."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from tests.hardening.apps import agent_app, ingestion_app, notifier_app
from tests.support.redis_proc import RedisProcess
from tests.support.servers import serve_app

pytestmark = pytest.mark.real

EXAMPLES = 10
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
SAMPLE = ('10.0.0.1:4000 [22/Nov/2026:14:03:17.032] fe be/app1 0/0/1/7/{ta} {status} 185 - - ---- '
          '1/1/0/0/0 0/0 "GET /a HTTP/1.1"')


def _schema(app: object) -> schemathesis.BaseSchema:
    """The schema of the real app (built offline: creating an app opens no connection)."""
    return schemathesis.openapi.from_dict(app.openapi())  # type: ignore[attr-defined]


_NOWHERE = "redis://127.0.0.1:9/0"
ingestion = _schema(ingestion_app(_NOWHERE))
agent = _schema(agent_app(_NOWHERE))
# /analyze runs a whole analysis per call: the coverage phase's hundreds of boundary cases would
# take minutes on 2 cores; the agent gets the explicit examples and the bounded fuzzing phase.
agent.config.phases.coverage.enabled = False
notifier = _schema(notifier_app(_NOWHERE))


@pytest.fixture(scope="module")
def redis_for_fuzz(redis_process: RedisProcess) -> str:
    redis.Redis.from_url(redis_process.url).flushall()
    return redis_process.url


@pytest.fixture(scope="module")
def ingestion_url(redis_for_fuzz: str) -> Iterator[str]:
    with serve_app(ingestion_app(redis_for_fuzz)) as url:
        yield url


@pytest.fixture(scope="module")
def agent_url(redis_for_fuzz: str) -> Iterator[str]:
    with serve_app(ingestion_app(redis_for_fuzz)) as ingestion_url:
        body = "\n".join(SAMPLE.format(ta=i * 7, status=(200, 503)[i % 2]) for i in range(40))
        assert httpx.post(ingestion_url + "/logs", content=body,
                          headers={"Content-Type": "text/plain"}).status_code == 202
        with serve_app(agent_app(redis_for_fuzz, ingestion_url, alert_worker_enabled=False)) as url:
            yield url


@pytest.fixture(scope="module")
def notifier_url(redis_for_fuzz: str) -> Iterator[str]:
    with serve_app(notifier_app(redis_for_fuzz, redis_prefix="fuzz:")) as url:
        yield url


def _run(case: schemathesis.Case, base_url: str) -> None:
    response = case.call(base_url=base_url, timeout=30)
    case.validate_response(response, checks=CHECKS)


@ingestion.parametrize()
@FUZZ
def test_ingestion_api(case: schemathesis.Case, ingestion_url: str) -> None:
    _run(case, ingestion_url)


@agent.parametrize()
@FUZZ
def test_agent_api(case: schemathesis.Case, agent_url: str) -> None:
    _run(case, agent_url)


@notifier.parametrize()
@FUZZ
def test_notifier_api(case: schemathesis.Case, notifier_url: str) -> None:
    _run(case, notifier_url)


def test_ingestion_422_matches_its_declared_schema(ingestion_url: str) -> None:
    """Found by the fuzz above ({"detail": str} against a declared list); fixed in 8b832fe."""
    r = httpx.get(ingestion_url + "/metrics/overview", params={"end": "not-a-time"})
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], list)


@pytest.mark.parametrize("to", [False, 0, 1.5, {"a": "b"}])
def test_notifier_non_list_recipients_are_422(notifier_url: str, to: object) -> None:
    """Found by the fuzz above (a 500 from list(False)); fixed in notifier 1a2f57b."""
    body = {"idempotency_key": None, "incident_id": 1, "event": "opened", "severity": "warning",
            "title": "t", "summary": "s", "report_markdown": "", "url": "", "to": to}
    assert httpx.post(notifier_url + "/notify", json=body).status_code == 422

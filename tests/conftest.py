"""Fixtures shared by every test folder: real redis-server, fakeredis, fixtures paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.binaries import require_binary
from tests.support.redis_proc import RedisProcess

REPO = Path(__file__).resolve().parents[1]


def _shared_fixtures() -> Path:
    for candidate in (REPO.parent / "shared" / "fixtures", REPO / "tests" / "data" / "shared-fixtures"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("../shared/fixtures not found beside the repository")


# Variables a developer may have exported that would change what a test exercises (a real
# Anthropic key turns LLM_ENGINE=auto into real API calls; a token closes endpoints).
_ISOLATED_ENV = (
    "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "LLM_ENGINE", "API_TOKEN", "ALERTS_TOKEN",
    "INGEST_TOKEN", "NOTIFIER_TOKEN", "REDIS_URL", "INGESTION_URL", "NOTIFIER_URL",
    "SMTP_USERNAME", "SMTP_PASSWORD", "PROMETHEUS_URL",
    "REDIS_CLUSTER_URLS", "REDIS_WAIT_REPLICAS", "REDIS_WAIT_TIMEOUT_MS",  # docs/cluster.md
)


@pytest.fixture(autouse=True)
def _isolated_environment(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("claude"):
        return  # runs against the real API on purpose
    for name in _ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    return _shared_fixtures()


@pytest.fixture(scope="session")
def redis_process() -> Iterator[RedisProcess]:
    """One real redis-server for the session; tests that kill it start their own."""
    proc = RedisProcess(require_binary("redis-server")).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def redis_url(redis_process: RedisProcess) -> str:
    """URL of the session's real redis-server, flushed before each test."""
    redis.Redis.from_url(redis_process.url).flushall()
    return redis_process.url


@pytest.fixture
def fresh_redis() -> Iterator[RedisProcess]:
    """A redis-server of the test's own, for tests that kill, restart or fill it."""
    proc = RedisProcess(require_binary("redis-server")).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
async def fake_redis():
    """fakeredis for fast unit tests; never the only test of a Redis path."""
    import fakeredis

    client = fakeredis.FakeAsyncRedis(decode_responses=False)
    try:
        yield client
    finally:
        await client.aclose()

"""A real Redis Cluster on loopback (tests/support/redis_cluster.py): one for the session, flushed
per test, and one of a test's own for tests that kill a master."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.binaries import require_binary
from tests.support.redis_cluster import RedisClusterProcesses


def _start() -> RedisClusterProcesses:
    return RedisClusterProcesses(require_binary("redis-server"), require_binary("redis-cli")).start()


@pytest.fixture(scope="session")
def redis_cluster_session() -> Iterator[RedisClusterProcesses]:
    cluster = _start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def redis_cluster(redis_cluster_session: RedisClusterProcesses) -> RedisClusterProcesses:
    redis_cluster_session.flushall()
    return redis_cluster_session


@pytest.fixture
def fresh_cluster() -> Iterator[RedisClusterProcesses]:
    cluster = _start()
    try:
        yield cluster
    finally:
        cluster.stop()

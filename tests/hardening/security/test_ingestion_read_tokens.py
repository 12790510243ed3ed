"""Finding 5 (ingestion part): /metrics/* behind READ_TOKEN (INGEST_TOKEN also accepted), and
/prometheus/metrics behind METRICS_TOKEN when set; open (with a warning) when unset."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.hardening.apps import ingestion_app
from tests.support.servers import serve_app

pytestmark = pytest.mark.real


@pytest.fixture
def url(redis_url: str) -> Iterator[str]:
    app = ingestion_app(redis_url, parse_workers=0, ingest_token="write-1", read_token="read-1",
                        metrics_token="scrape-1")
    with serve_app(app) as base:
        yield base


def _get(url: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url + path, headers=headers, timeout=10).status_code


@pytest.mark.parametrize("path", ["/metrics/overview", "/metrics/rps", "/metrics/backends", "/metrics/saturation"])
def test_metrics_reads_need_the_read_or_the_ingest_token(url: str, path: str) -> None:
    assert _get(url, path, None) == 401
    assert _get(url, path, "nope") == 403
    assert _get(url, path, "scrape-1") == 403
    assert _get(url, path, "read-1") == 200
    assert _get(url, path, "write-1") == 200


def test_the_read_token_does_not_write(url: str) -> None:
    r = httpx.post(url + "/logs", content=b"x", headers={"Content-Type": "text/plain",
                                                            "Authorization": "Bearer read-1"})
    assert r.status_code == 403


def test_prometheus_page_needs_the_metrics_token(url: str) -> None:
    assert _get(url, "/prometheus/metrics", None) == 401
    assert _get(url, "/prometheus/metrics", "read-1") == 403
    r = httpx.get(url + "/prometheus/metrics", headers={"Authorization": "Bearer scrape-1"}, timeout=10)
    assert r.status_code == 200 and "oncall_ingest_lines_total" in r.text
    assert _get(url, "/health", None) == 200


def test_the_ingest_token_alone_closes_the_reads_too(redis_url: str) -> None:
    """The finding: /metrics/* stayed open when only INGEST_TOKEN was set."""
    with serve_app(ingestion_app(redis_url, parse_workers=0, ingest_token="write-1")) as base:
        assert _get(base, "/metrics/overview", None) == 401
        assert _get(base, "/metrics/overview", "write-1") == 200


def test_open_when_unset(redis_url: str) -> None:
    with serve_app(ingestion_app(redis_url, parse_workers=0)) as base:
        assert _get(base, "/metrics/overview", None) == 200
        assert _get(base, "/prometheus/metrics", None) == 200

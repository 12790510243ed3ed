"""Finding 7 of the second hardening round: `end` outside a sane range (before 2000, more than a
day ahead, off the calendar) is a 422 naming `end` on every /metrics/* query, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from ingestion_service.queries.window import InvalidQuery, parse_end
from tests.hardening.apps import ingestion_app
from tests.support.servers import serve_app

QUERIES = ["overview", "status-codes", "response-times", "rps", "backends", "frontends", "saturation",
           "termination-states"]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("end", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "1999-12-31T23:59:59Z",
                                 "2026-12-03T12:00:00Z", "9999-12-31T23:59:59-01:00"])
def test_end_out_of_range_is_invalid(end: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse_end(end, now=NOW.timestamp())
    assert caught.value.param == "end"


def test_end_in_range_is_read() -> None:
    assert parse_end("2000-01-01T00:00:00Z", now=NOW.timestamp()) == 946684800.0
    soon = NOW + timedelta(hours=23)
    assert parse_end(soon.isoformat(), now=NOW.timestamp()) == soon.timestamp()


@pytest.fixture
def url(redis_url: str) -> Iterator[str]:
    with serve_app(ingestion_app(redis_url, parse_workers=0)) as base:
        yield base


@pytest.mark.real
@pytest.mark.parametrize("end", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
                                 (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")])
def test_every_query_answers_422_with_the_reason(url: str, end: str) -> None:
    for q in QUERIES:
        r = httpx.get(f"{url}/metrics/{q}", params={"end": end, "window": "24h"}, timeout=10)
        assert r.status_code == 422, (q, r.status_code, r.text)
        detail = r.json()["detail"][0]
        assert detail["loc"] == ["query", "end"] and "2000" in detail["msg"], r.text

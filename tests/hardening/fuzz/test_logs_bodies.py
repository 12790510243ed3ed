"""POST /logs with arbitrary bytes, unicode and JSON-ish bodies under every content type, against
the real app over a real redis-server: always a 2xx or a 4xx with a reason, never a 5xx; and the
counts it answers add up (accepted + rejected + skipped never exceeds the lines sent)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.apps import ingestion_app
from tests.support.redis_proc import RedisProcess
from tests.support.servers import serve_app

pytestmark = pytest.mark.real

TYPES = ["text/plain", "application/json", "application/x-ndjson", "text/plain; charset=latin-1",
         "application/json; charset=utf-8", "application/octet-stream", ""]
LINE = ('10.0.0.1:4000 [22/Nov/2026:14:03:17.032] fe be/app1 0/0/1/7/12 200 185 - - ---- '
        '1/1/0/0/0 0/0 "GET /a HTTP/1.1"')
FUZZ = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner, max_size=6),
    max_leaves=20,
)
entry_like = st.fixed_dictionaries({}, optional={
    "timestamp": st.one_of(st.text(max_size=30), st.just("2026-11-22T14:03:17Z"), st.integers()),
    "frontend": st.one_of(st.text(max_size=200), st.integers(), st.none()),
    "backend": st.one_of(st.text(max_size=200), st.lists(st.text(max_size=3), max_size=2)),
    "server": st.text(max_size=50),
    "status_code": st.one_of(st.integers(min_value=-10**20, max_value=10**20), st.text(max_size=5), st.floats()),
    "response_time_ms": st.one_of(st.integers(min_value=-10**20, max_value=10**20), st.floats(allow_nan=True)),
    "time_queue_ms": st.one_of(st.integers(), st.floats()),
    "bytes_read": st.one_of(st.integers(), st.text(max_size=5)),
    "path": st.text(max_size=300),
})
mutated_lines = st.lists(
    st.one_of(st.just(LINE), st.text(max_size=200),
              st.builds(lambda i, c: LINE[:i] + c + LINE[i:], st.integers(0, len(LINE)), st.text(min_size=1, max_size=5))),
    max_size=20,
).map("\n".join)


@pytest.fixture(scope="module")
def url(redis_process: RedisProcess) -> Iterator[str]:
    redis.Redis.from_url(redis_process.url).flushall()
    with serve_app(ingestion_app(redis_process.url, max_body_bytes=256 * 1024)) as base:
        yield base


def _check(url: str, body: bytes, content_type: str) -> None:
    r = httpx.post(url + "/logs", content=body, headers={"Content-Type": content_type}, timeout=30)
    assert r.status_code < 500, (r.status_code, r.text, body[:200], content_type)
    if r.status_code == 202:
        answer = r.json()
        assert min(answer["accepted"], answer["rejected"], answer["skipped"]) >= 0
        assert answer["accepted"] + answer["rejected"] + answer["skipped"] <= max(1, body.count(b"\n") + 1) or \
            content_type.startswith("application/json")
        assert len(answer["errors"]) <= 100
    else:
        assert r.json()["detail"], r.text


@FUZZ
@given(body=st.binary(max_size=2000), content_type=st.sampled_from(TYPES))
def test_arbitrary_bytes(url: str, body: bytes, content_type: str) -> None:
    _check(url, body, content_type)


@FUZZ
@given(text=st.one_of(st.text(max_size=2000), mutated_lines), content_type=st.sampled_from(TYPES))
def test_arbitrary_unicode_and_damaged_lines(url: str, text: str, content_type: str) -> None:
    _check(url, text.encode("utf-8", "surrogatepass"), content_type)


@FUZZ
@given(doc=st.one_of(json_values, entry_like, st.lists(entry_like, max_size=8)), ndjson=st.booleans())
def test_arbitrary_json_documents_and_entries(url: str, doc: object, ndjson: bool) -> None:
    if ndjson:
        items = doc if isinstance(doc, list) else [doc]
        body = "\n".join(json.dumps(i) for i in items).encode()
        _check(url, body, "application/x-ndjson")
    else:
        _check(url, json.dumps(doc).encode(), "application/json")


def test_deeply_nested_json_is_a_4xx(url: str) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        for kind in ("application/json", "application/x-ndjson"):
            r = httpx.post(url + "/logs", content=body, headers={"Content-Type": kind}, timeout=30)
            assert r.status_code < 500, (kind, r.status_code, r.text[:300])

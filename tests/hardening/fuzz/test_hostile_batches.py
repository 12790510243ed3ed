"""Hostile batches against the real stack (the app under uvicorn, a real redis-server): numbers past
HAProxy's ranges, 4,000-digit bytes, fractional Ta, lone surrogates, retries with the same
Idempotency-Key, unreadable bodies. Whatever happened, no 5xx but 503, and what /metrics/* shows
equals one clean ingestion of exactly the accepted lines into a fresh Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.apps import ingestion_app
from tests.support.redis_proc import RedisProcess
from tests.support.servers import serve_app

pytestmark = pytest.mark.real

END = "2026-11-22T15:00:00Z"
HUGE = [2**53 - 1, 2**53, 2**63 - 1, 2**63, 2**64, 10**4000 - 1]
ints_small = st.integers(0, 5000)
hostile_int = st.one_of(ints_small, st.sampled_from(HUGE))
counter = st.one_of(st.integers(0, 40), st.sampled_from([2**31, 2**32 - 1, 2**32, 2**64]))


@dataclass(frozen=True)
class Line:
    minute: int
    backend: str
    server: str
    status: int
    ta: int | float
    tw: int
    bytes_read: int
    retries: int
    srv_queue: int
    actconn: int

    def text(self) -> str:
        ta = self.ta if isinstance(self.ta, int) else int(self.ta)
        return (f"10.0.0.1:4000 [22/Nov/2026:14:{self.minute:02d}:17.032] fe {self.backend}/{self.server} "
                f"0/{self.tw}/1/7/{ta} {self.status} {self.bytes_read} - - ---- "
                f"{self.actconn}/1/0/0/{self.retries} {self.srv_queue}/0 \"GET /a HTTP/1.1\"")

    def entry(self) -> dict[str, Any]:
        return {"timestamp": f"2026-11-22T14:{self.minute:02d}:17Z", "frontend": "fe", "backend": self.backend,
                "server": self.server, "status_code": self.status, "response_time_ms": self.ta,
                "time_queue_ms": self.tw, "bytes_read": self.bytes_read, "retries": self.retries,
                "srv_queue": self.srv_queue, "actconn": self.actconn}


lines = st.builds(
    Line,
    minute=st.integers(50, 52),
    backend=st.sampled_from(["be_a", "be_b", "be\ud800x"]),
    server=st.sampled_from(["s1", "s2"]),
    status=st.sampled_from([200, 404, 503]),
    ta=st.one_of(ints_small, st.sampled_from([12.5, 0.4, 99.5, 2**53 - 1, 2**53, 2**64])),
    tw=st.one_of(st.integers(-1, 30), st.sampled_from([2**53, 2**64])),
    bytes_read=hostile_int,
    retries=counter,
    srv_queue=counter,
    actconn=counter,
)


@dataclass(frozen=True)
class Batch:
    kind: str  # text/plain, application/x-ndjson, application/json
    lines: tuple[Line, ...]
    retry: bool  # sent twice with one Idempotency-Key (the first answer "lost")

    def body(self, keep: list[int] | None = None) -> bytes:
        chosen = [x for i, x in enumerate(self.lines, 1) if keep is None or i in keep]
        if self.kind == "text/plain":
            return "\n".join(x.text() for x in chosen if x.backend.isascii()).encode()
        if self.kind == "application/x-ndjson":
            return "\n".join(json.dumps(x.entry()) for x in chosen).encode()
        return json.dumps([x.entry() for x in chosen]).encode()

    def sent(self) -> list[Line]:
        return [x for x in self.lines if self.kind != "text/plain" or x.backend.isascii()]


batches = st.builds(Batch, kind=st.sampled_from(["text/plain", "application/x-ndjson", "application/json"]),
                    lines=st.lists(lines, min_size=1, max_size=8).map(tuple), retry=st.booleans())
UNREADABLE = [(b'[{"frontend": "\\ud800"', "application/json"), (b"\xff\xfe", "text/plain"),
              (b"[" * 5000, "application/json")]

QUERIES = ["overview", "status-codes", "response-times", "backends", "frontends", "termination-states"]


def _stored(client: httpx.Client) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for q in QUERIES:
        for params in ({}, {"backend": "be_a"}):
            r = client.get(f"/metrics/{q}", params={"window": "1h", "end": END, **params})
            assert r.status_code == 200, r.text
            out[f"{q}{params}"] = r.json()
    sat = client.get("/metrics/saturation", params={"window": "1h", "end": END})
    assert sat.status_code == 200, sat.text
    out["saturation"] = sat.json()["haproxy"]
    rps = client.get("/metrics/rps", params={"minutes": 15, "end": END})
    out["rps"] = rps.json()
    return out


@pytest.fixture(scope="module")
def stacks(redis_process: RedisProcess) -> Iterator[tuple[httpx.Client, httpx.Client, list[redis.Redis]]]:
    base = redis_process.url.rsplit("/", 1)[0]
    urls = [base + "/5", base + "/6"]
    dbs = [redis.Redis.from_url(u) for u in urls]
    common = {"max_body_bytes": 256 * 1024, "parse_workers": 0, "late_line_seconds": 10 * 365 * 86400}
    with serve_app(ingestion_app(urls[0], **common)) as dirty, serve_app(ingestion_app(urls[1], **common)) as clean:
        with httpx.Client(base_url=dirty, timeout=30) as d, httpx.Client(base_url=clean, timeout=30) as c:
            yield d, c, dbs


def _post(client: httpx.Client, body: bytes, kind: str, key: str | None = None) -> httpx.Response:
    headers = {"Content-Type": kind, **({"Idempotency-Key": key} if key else {})}
    r = client.post("/logs", content=body, headers=headers)
    assert r.status_code < 500 or r.status_code == 503, (r.status_code, r.text, body[:300])
    return r


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(plan=st.lists(st.one_of(batches, st.sampled_from(UNREADABLE)), min_size=1, max_size=5))
def test_hostile_batches_store_exactly_the_accepted_lines(
    stacks: tuple[httpx.Client, httpx.Client, list[redis.Redis]], plan: list[Batch | tuple[bytes, str]],
) -> None:
    dirty, clean, dbs = stacks
    for db in dbs:
        db.flushdb()
    accepted: list[tuple[Batch, list[int]]] = []
    for n, step in enumerate(plan):
        if isinstance(step, tuple):
            r = _post(dirty, *step)
            assert r.status_code == 422, r.text
            continue
        key = f"k{n}" if step.retry else None
        r = _post(dirty, step.body(), step.kind, key)
        assert r.status_code == 202, r.text
        answer = r.json()
        if step.retry:
            again = _post(dirty, step.body(), step.kind, key)
            assert again.status_code == 202 and again.json() == answer
        rejected = {e["line"] for e in answer["errors"]}
        keep = [i for i in range(1, len(step.sent()) + 1) if i not in rejected]
        assert answer["accepted"] == len(keep) and answer["rejected"] == len(rejected)
        for i, x in enumerate(step.sent(), 1):  # the verdict per line: its values, not luck
            fits = (x.backend.isascii() and x.bytes_read <= 2**53 - 1 and x.ta <= 2**53 - 1 and x.tw <= 2**53 - 1
                    and x.retries <= 2**31 - 1 and max(x.srv_queue, x.actconn) <= 2**32 - 1)
            assert (i in keep) == fits, (x, answer)
        accepted.append((step, keep))
    for step, keep in accepted:
        if keep:
            sent = Batch(step.kind, tuple(step.sent()), False)
            assert _post(clean, sent.body(keep), step.kind).status_code == 202
    assert _stored(dirty) == _stored(clean)

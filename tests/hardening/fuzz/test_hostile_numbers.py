"""Finding 1 of the second hardening round, case by case, on the real app and a real redis-server:
numbers past HAProxy's ranges are per-line rejections (never a 500, nothing of the batch half
written), fractional Ta is rounded, a lone surrogate is a per-line rejection, one syslog datagram
cannot poison its minute, and sums that pass 2^63 - 1 stay at that ceiling instead of failing."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from ingestion_service.store import keys
from tests.hardening.apps import ingestion_app
from tests.support.net import free_udp_port
from tests.support.servers import serve_app

pytestmark = pytest.mark.real

END = "2026-11-22T14:05:00Z"
LINE = ('10.0.0.1:4000 [22/Nov/2026:14:03:17.032] fe be/app1 0/{tw}/1/7/{ta} 200 {nbytes} - - ---- '
        '1/1/0/0/{retries} {sq}/0 "GET /a HTTP/1.1"')
MINUTE = 1795356180 // 60  # 22/Nov/2026:14:03 UTC


def line(ta: int = 12, nbytes: int = 185, retries: int = 0, sq: int = 0, tw: int = 0) -> str:
    return LINE.format(ta=ta, nbytes=nbytes, retries=retries, sq=sq, tw=tw)


@pytest.fixture
def stack(redis_url: str) -> Iterator[tuple[httpx.Client, int]]:
    udp = free_udp_port()
    app = ingestion_app(redis_url, parse_workers=0, late_line_seconds=10 * 365 * 86400,
                        syslog_udp_port=udp, syslog_flush_seconds=0.05)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, udp


def _total(client: httpx.Client) -> int:
    r = client.get("/metrics/overview", params={"window": "5m", "end": END})
    assert r.status_code == 200, r.text
    return int(r.json()["total_requests"])


def _text(client: httpx.Client, body: str, **headers: str) -> httpx.Response:
    return client.post("/logs", content=body, headers={"Content-Type": "text/plain", **headers})


@pytest.mark.parametrize("bad", [
    line(nbytes=2**64), line(nbytes=10**4000 - 1), line(ta=2**64), line(retries=2**64), line(sq=2**64),
    line(nbytes=2**53), line(retries=2**31), line(sq=2**32), line(tw=2**64),
])
def test_out_of_range_number_is_a_rejection_and_the_rest_lands_once(stack: tuple[httpx.Client, int], bad: str) -> None:
    client, _ = stack
    body = "\n".join([line(), bad, line()])
    r = _text(client, body, **{"Idempotency-Key": "batch-1"})
    assert r.status_code == 202, r.text
    answer = r.json()
    assert answer["accepted"] == 2 and answer["rejected"] == 1
    assert answer["errors"][0]["line"] == 2 and "range" in answer["errors"][0]["reason"]
    again = _text(client, body, **{"Idempotency-Key": "batch-1"})
    assert again.status_code == 202 and again.json() == answer
    assert _total(client) == 2


def test_the_largest_values_in_range_are_kept_exactly(stack: tuple[httpx.Client, int], redis_url: str) -> None:
    client, _ = stack
    r = _text(client, line(nbytes=2**53 - 1, retries=2**31 - 1, sq=2**32 - 1))
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    sat = client.get("/metrics/saturation", params={"window": "5m", "end": END}).json()["haproxy"]
    assert sat["max_srv_queue"] == 2**32 - 1 and sat["retries"] == 2**31 - 1
    stored = redis.Redis.from_url(redis_url).hget(keys.counters_key("s", "", MINUTE), "by")
    assert stored == str(2**53 - 1).encode()


def test_fractional_response_time_is_rounded_not_rejected(stack: tuple[httpx.Client, int]) -> None:
    client, _ = stack
    entries = [{"timestamp": "2026-11-22T14:03:10Z", "frontend": "fe", "backend": "be", "server": "s1",
                "status_code": 200, "response_time_ms": ta} for ta in (12.5, 0.4, 99.5)]
    r = client.post("/logs", json=entries)
    assert r.status_code == 202 and r.json()["accepted"] == 3, r.text
    rt = client.get("/metrics/response-times", params={"window": "5m", "end": END}).json()
    assert rt["count"] == 3 and abs(rt["max_ms"] - 100) / 100 <= 0.01  # 99.5 → 100 ms


@pytest.mark.parametrize("kind", ["application/json", "application/x-ndjson"])
def test_lone_surrogate_is_a_per_line_rejection(stack: tuple[httpx.Client, int], kind: str) -> None:
    client, _ = stack
    good = {"timestamp": "2026-11-22T14:03:10Z", "frontend": "fe", "backend": "be", "server": "s1",
            "status_code": 200, "response_time_ms": 3}
    bad = {**good, "backend": "be\ud800"}
    body = json.dumps([good, bad]) if kind == "application/json" else json.dumps(good) + "\n" + json.dumps(bad)
    r = client.post("/logs", content=body.encode(), headers={"Content-Type": kind})
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1 and r.json()["errors"][0]["line"] == 2
    assert "surrogate" in r.json()["errors"][0]["reason"]
    layout = '<134>Nov 22 14:03:17 haproxy[7]: {"request_date": "22/Nov/2026:14:03:17.032", "status_code": 200, ' \
             '"fe_name": "fe\\ud800", "be_name": "be", "server_name": "s1", "time_active": 3}'
    r = _text(client, layout)
    assert r.status_code == 202 and r.json()["rejected"] == 1, r.text
    assert _total(client) == 1


def _send_udp(port: int, datagrams: list[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
        for d in datagrams:
            out.sendto(("<134>Nov 22 14:03:17 haproxy[7]: " + d).encode(), ("127.0.0.1", port))


def _wait_lines(client: httpx.Client, result: str, count: int) -> None:
    deadline = time.monotonic() + 20
    pattern = f'oncall_ingest_lines_total{{result="{result}",source="syslog"}} {float(count)}'
    while pattern not in client.get("/prometheus/metrics").text:
        assert time.monotonic() < deadline, f"syslog never counted {count} {result} lines"
        time.sleep(0.05)


def test_one_syslog_datagram_cannot_poison_its_minute(stack: tuple[httpx.Client, int]) -> None:
    """Before: bytes 2^63 - 1 over UDP was stored, and every later batch for that minute overflowed
    HINCRBY: 500, while part of each batch was already counted."""
    client, udp = stack
    _send_udp(udp, [line(nbytes=2**63 - 1), line(nbytes=2**53 - 1)])
    _wait_lines(client, "rejected", 1)
    _wait_lines(client, "accepted", 1)
    for _ in range(3):
        r = _text(client, line())
        assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    assert _total(client) == 4


def test_sums_past_2_63_saturate_and_later_batches_still_land(stack: tuple[httpx.Client, int], redis_url: str) -> None:
    client, _ = stack
    big = "\n".join(line(nbytes=2**53 - 1) for _ in range(1100))  # 1100 × (2^53 - 1) > 2^63 - 1
    for _ in range(2):
        r = _text(client, big)
        assert r.status_code == 202 and r.json()["accepted"] == 1100, r.text
    assert _text(client, line()).status_code == 202
    assert _total(client) == 2201
    stored = redis.Redis.from_url(redis_url).hget(keys.counters_key("s", "", MINUTE), "by")
    assert stored == str(2**63 - 1).encode()

"""The HTTP API under uvicorn on loopback, against a real redis-server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ingestion_service.app import create_app
from ingestion_service.settings import Settings
from tests.support.servers import serve_app

pytestmark = pytest.mark.real
END = "2026-11-22T14:05:00Z"  # the fixture captures are from 14:03 that day
LINE = ('10.0.0.1:4000 [22/Nov/2026:14:03:17.032] fe be/app1 0/0/1/7/{ta} {status} 185 - - ---- '
        '1/1/0/0/0 0/0 "GET /a HTTP/1.1"')


@pytest.fixture
def api(redis_url: str) -> Iterator[httpx.Client]:
    settings = Settings(redis_url=redis_url, ingest_token="s3cret", max_body_bytes=512 * 1024, parse_workers=0,
                        late_line_seconds=10 * 365 * 86400)  # the fixed-date lines count as present
    with serve_app(create_app(settings)) as url:
        with httpx.Client(base_url=url, timeout=10, headers={"Authorization": "Bearer s3cret"}) as client:
            yield client


def _text(client: httpx.Client, body: str | bytes, **headers: str) -> httpx.Response:
    return client.post("/logs", content=body, headers={"Content-Type": "text/plain", **headers})


def test_fixture_lines_counted_and_queried(api: httpx.Client, shared_fixtures: Path) -> None:
    body = (shared_fixtures / "haproxy" / "syslog-udp-haproxy-2.6.log").read_bytes()
    r = _text(api, body)
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 221, "rejected": 0, "skipped": 7, "errors": []}
    ov = api.get("/metrics/overview", params={"window": "5m", "end": END}).json()
    assert ov["total_requests"] == 221 and ov["errors_5xx"] == 58 and ov["errors_4xx"] == 51
    assert ov["error_rate_5xx_pct"] == pytest.approx(100 * 58 / 221, abs=0.001)
    assert ov["previous"]["total_requests"] == 0
    later = api.get("/metrics/overview", params={"window": "5m", "end": "2026-11-22T14:10:00Z"}).json()
    assert later["total_requests"] == 0 and later["previous"]["total_requests"] == 221
    codes = api.get("/metrics/status-codes", params={"end": END}).json()["status_codes"]
    assert codes == {"200": 112, "404": 51, "501": 18, "503": 40}
    rps = api.get("/metrics/rps", params={"minutes": 4, "end": END}).json()["series"]
    assert [p["minute"] for p in rps] == ["2026-11-22T14:01:00Z", "2026-11-22T14:02:00Z",
                                          "2026-11-22T14:03:00Z", "2026-11-22T14:04:00Z"]
    assert [p["requests"] for p in rps] == [0, 0, 221, 0]
    be = api.get("/metrics/backends", params={"end": END}).json()["backends"]
    assert [(b["name"], b["requests"]) for b in be] == [("be_app", 221)]
    fe = api.get("/metrics/frontends", params={"end": END, "frontend": "fe_main"}).json()["frontends"]
    assert fe[0]["requests"] == 221
    sat = api.get("/metrics/saturation", params={"end": END}).json()
    assert sat["redis"]["used_memory_bytes"] > 0 and sat["haproxy"]["max_actconn"] >= 1
    term = api.get("/metrics/termination-states", params={"end": END}).json()["termination_states"]
    assert term["SC--"] == 40 and set(term) == {"----", "SC--"}
    assert sum(term.values()) == 221
    rt = api.get("/metrics/response-times", params={"end": END, "backend": "be_app"}).json()
    assert rt["count"] == 221 and rt["max_ms"] == 7.0


def test_latency_percentiles_through_the_api(api: httpx.Client) -> None:
    tas = list(range(1, 1001))
    body = "\n".join(LINE.format(ta=ta, status=200) for ta in tas)
    assert _text(api, body).json()["accepted"] == 1000
    rt = api.get("/metrics/response-times", params={"end": END, "window": "1h"}).json()
    for q, key in ((0.5, "p50_ms"), (0.9, "p90_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
        exact = tas[int(q * 999)]
        assert abs(rt[key] - exact) / exact <= 0.01, (key, rt[key], exact)
    assert rt["max_ms"] == 1000.0


def test_json_and_ndjson(api: httpx.Client) -> None:
    entry = {"timestamp": "2026-11-22T14:03:10Z", "frontend": "fe", "backend": "be", "server": "s1",
             "status_code": 502, "response_time_ms": 12}
    r = api.post("/logs", json=entry)
    assert r.status_code == 202 and r.json()["accepted"] == 1
    r = api.post("/logs", json=[entry, {**entry, "status_code": "x"}, {"frontend": "fe"}])
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (1, 2)
    assert body["errors"][0]["line"] == 2 and "status_code" in body["errors"][0]["reason"]
    assert "missing" in body["errors"][1]["reason"]
    nd = json.dumps(entry) + "\n\n{not json\n" + json.dumps({**entry, "backend": "be2"}) + "\n"
    r = api.post("/logs", content=nd, headers={"Content-Type": "application/x-ndjson"})
    assert r.json()["accepted"] == 2 and r.json()["errors"] == [{"line": 3, "reason": r.json()["errors"][0]["reason"]}]
    ov = api.get("/metrics/overview", params={"end": END, "backend": "be"}).json()
    assert ov["total_requests"] == 3 and ov["errors_5xx"] == 3


def test_bad_input_is_4xx_never_500(api: httpx.Client) -> None:
    r = _text(api, "garbage\n" + LINE.format(ta=5, status=200) + "\n" + LINE.format(ta="x", status=200))
    assert r.status_code == 202
    assert r.json()["accepted"] == 1 and [e["line"] for e in r.json()["errors"]] == [1, 3]
    many = _text(api, "\n".join(["nope"] * 300)).json()
    assert many["rejected"] == 300 and len(many["errors"]) == 100
    assert api.post("/logs", content=b"x", headers={"Content-Type": "application/xml"}).status_code == 415
    assert api.post("/logs", content=b"x").status_code == 415
    assert api.post("/logs", content=b"[1,", headers={"Content-Type": "application/json"}).status_code == 422
    assert _text(api, b"\xff\xfe bad utf8").status_code == 422
    assert api.post("/logs", content=b"[" * 600_000, headers={"Content-Type": "application/json"}).status_code == 413
    assert _text(api, "a" * 600_000).status_code == 413
    assert api.post("/logs", content=b"[" * 50000, headers={"Content-Type": "application/json"}).status_code == 422
    assert _text(api, "x", **{"Idempotency-Key": "k" * 300}).status_code == 422
    for params in ({"window": "0m"}, {"window": "25h"}, {"window": "abc"}, {"end": "yesterday"}):
        r = api.get("/metrics/overview", params=params)
        assert r.status_code == 422
        [problem] = r.json()["detail"]  # FastAPI's own 422 shape, as the OpenAPI schema declares
        assert problem["loc"] == ["query", next(iter(params))] and problem["msg"]
    assert api.get("/metrics/rps", params={"minutes": 0}).status_code == 422


def test_auth_on_post_logs(api: httpx.Client) -> None:
    url = str(api.base_url)
    assert httpx.post(url + "/logs", content="x", headers={"Content-Type": "text/plain"}).status_code == 401
    wrong = {"Content-Type": "text/plain", "Authorization": "Bearer nope"}
    assert httpx.post(url + "/logs", content="x", headers=wrong).status_code == 403
    # INGEST_TOKEN set: the reads are closed too (the agent sends it as INGESTION_READ_TOKEN)
    assert httpx.get(url + "/metrics/overview").status_code == 401
    assert api.get("/metrics/overview").status_code == 200


def test_idempotency_key_over_http(api: httpx.Client) -> None:
    body = "\n".join(LINE.format(ta=5, status=200) for _ in range(10))
    first = _text(api, body, **{"Idempotency-Key": "abc"})
    second = _text(api, body, **{"Idempotency-Key": "abc"})
    assert first.json() == second.json() and first.json()["accepted"] == 10
    assert api.get("/metrics/overview", params={"end": END}).json()["total_requests"] == 10
    metrics = api.get("/prometheus/metrics").text
    assert 'oncall_ingest_batches_total{outcome="duplicate"} 1.0' in metrics
    assert 'oncall_requests_total{backend="be",code_class="2xx",frontend="fe",server="app1"} 10.0' in metrics


def test_prometheus_golden_signals(api: httpx.Client) -> None:
    body = "\n".join([LINE.format(ta=3, status=200), LINE.format(ta=40, status=503), "junk",
                      LINE.format(ta=5, status=200), LINE.format(ta=50, status=200)])  # on the bounds
    _text(api, body)
    text = api.get("/prometheus/metrics").text
    assert 'oncall_requests_total{backend="be",code_class="5xx",frontend="fe",server="app1"} 1.0' in text
    assert 'oncall_request_duration_seconds_bucket{backend="be",frontend="fe",le="0.005"} 2.0' in text
    assert 'oncall_request_duration_seconds_bucket{backend="be",frontend="fe",le="0.025"} 2.0' in text
    assert 'oncall_request_duration_seconds_bucket{backend="be",frontend="fe",le="0.05"} 4.0' in text
    assert 'oncall_request_duration_seconds_bucket{backend="be",frontend="fe",le="+Inf"} 4.0' in text
    assert 'oncall_request_duration_seconds_count{backend="be",frontend="fe"} 4.0' in text
    assert 'oncall_request_duration_seconds_sum{backend="be",frontend="fe"} 0.098' in text
    assert 'oncall_ingest_lines_total{result="rejected",source="http"} 1.0' in text
    for name in ("oncall_haproxy_queue_max", "oncall_haproxy_actconn_max", "oncall_haproxy_retries_total",
                 "oncall_haproxy_queued_requests_total", "oncall_ingest_lag_seconds",
                 "oncall_ingest_udp_dropped_total", "oncall_ingest_udp_buffer_lines",
                 "oncall_redis_used_memory_bytes", "oncall_redis_maxmemory_bytes"):
        assert name in text, name


def test_prometheus_abnormal_terminations_by_server(api: httpx.Client) -> None:
    """Normal `----` endings are not exported; SC/sH are, per backend and server (the rules
    BackendConnectionErrors / BackendServerTimeouts read them)."""
    normal = LINE.format(ta=5, status=200)
    refused = normal.replace(" 200 ", " 503 ").replace(" ---- ", " SC-- ")
    timeout = normal.replace(" 200 ", " 504 ").replace(" ---- ", " sH-- ")
    assert refused != normal and timeout != normal
    _text(api, "\n".join([normal, refused, refused, timeout]))
    text = api.get("/prometheus/metrics").text
    assert 'oncall_haproxy_terminations_total{backend="be",server="app1",state="SC"} 2.0' in text
    assert 'oncall_haproxy_terminations_total{backend="be",server="app1",state="sH"} 1.0' in text
    assert 'state="--"' not in text
    assert "oncall_redis_up" in text

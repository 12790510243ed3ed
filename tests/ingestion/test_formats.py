"""Every HAProxy layout and header, time zones, names as configured, internal clients, statuses."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from ingestion_service.haproxy import LogEntry, ParseError, Skip, parse_line
from ingestion_service.haproxy.logformat import FormatError, compile_format
from ingestion_service.haproxy.models import ParseOptions
from ingestion_service.ingest.body import JSON, NDJSON, parse_body
from ingestion_service.ingest.pipeline import prepare_text

MSG = ('10.0.0.1:4000 [22/Nov/2026:09:03:17.032] fe_https~ be/app1 0/0/1/7/8 200 185 - - ---- '
       '1/1/0/0/0 0/0 "GET /a HTTP/1.1"')
UTC_TS = datetime(2026, 11, 22, 9, 3, 17, 32000, tzinfo=timezone.utc).timestamp()
NY = 5 * 3600  # New York is UTC-5 in November


def _entry(line: str, options: ParseOptions = ParseOptions()) -> LogEntry:
    result = parse_line(line, options)
    assert isinstance(result, LogEntry), result
    return result


@pytest.mark.parametrize("header", [
    "", "<134>", "<134>Nov 22 09:03:17 haproxy[1]: ", "<134>Nov 22 09:03:17 lb1 haproxy[1]: ",
    "<134>1 2026-11-22T09:03:17.032Z lb1 haproxy 1 - - ", "2026-11-22T09:03:17Z lb1 haproxy[1]: ",
    "haproxy[1]: ", "<134>1 2026-11-22T09:03:17+00:00 lb1 haproxy 1 - [meta x=\"1\"] ",
])
def test_every_header_utc(header: str) -> None:
    e = _entry(header + MSG)
    assert e.timestamp == pytest.approx(UTC_TS) and e.frontend == "fe_https" and e.status_code == 200


@pytest.mark.parametrize("header", ["<134>1 2026-11-22T09:03:17.032-05:00 lb1 haproxy 1 - - ",
                                    "2026-11-22T09:03:17-05:00 lb1 haproxy[1]: "])
def test_header_offset_wins(header: str) -> None:
    for zone in ("UTC", "Asia/Tokyo"):
        assert _entry(header + MSG, ParseOptions(zone)).timestamp == pytest.approx(UTC_TS + NY)
        batch = prepare_text(header + MSG + "\n", ParseOptions(zone))  # the bulk path agrees
        assert batch.accepted == 1 and batch.aggregator.newest == pytest.approx(UTC_TS + NY, abs=1)


def test_log_timezone_for_headerless_lines() -> None:
    options = ParseOptions("America/New_York")
    assert _entry(MSG, options).timestamp == pytest.approx(UTC_TS + NY)
    batch = prepare_text(MSG + "\n" + MSG, options)
    assert batch.accepted == 2 and [k[0] for k in batch.aggregator.groups] == [(UTC_TS + NY) // 60 * 60]


def test_httplog_clf_as_haproxy_writes_it() -> None:
    line = ('<134>Dec  1 22:16:49 haproxy[8957]: 127.0.0.1 - - [01/Dec/2026:22:16:49 +0000] "GET /none HTTP/1.1" '
            '503 217 "" "" 55346 222 "fe_clf" "be_none" "<NOSRV>" 0 -1 -1 -1 0 SC-- 1 1 0 0 0 0 0 "" "" ')
    e = _entry(line)
    assert (e.frontend, e.backend, e.server, e.status_code, e.termination_state) == ("fe_clf", "be_none", "<NOSRV>", 503, "SC--")
    assert (e.time_request_ms, e.time_queue_ms, e.response_time_ms, e.bytes_read, e.method, e.path) == (0, -1, 0, 217, "GET", "/none")
    assert e.timestamp == pytest.approx(datetime(2026, 12, 1, 22, 16, 49, 222000, tzinfo=timezone.utc).timestamp())


def test_tcplog_is_a_tcp_session() -> None:
    e = _entry("<134>Dec  1 22:16:42 haproxy[1]: 127.0.0.1:54320 [01/Dec/2026:22:16:42.576] fe_tcp be_tcp/app1 1/2/30 0 SC 2/1/0/0/0 3/4")
    assert e.tcp and (e.status_code, e.time_queue_ms, e.time_connect_ms, e.response_time_ms) == (-1, 1, 2, 30)
    assert (e.termination_state, e.srv_queue, e.backend_queue) == ("SC", 3, 4)
    batch = prepare_text("<134>Dec  1 22:16:42 haproxy[1]: 127.0.0.1:54320 [01/Dec/2026:22:16:42.576] fe_tcp be_tcp/app1 1/2/30 0 SC 2/1/0/0/0 3/4")
    deltas = batch.aggregator.fold()
    site = deltas.scopes[("s", "", 1796163360)]
    assert batch.accepted == 1 and "n" not in site.sums and site.sums["tn"] == 1 and site.sums["tk"] == 2
    assert site.sums["t:SC"] == 1 and site.maxima["bq"] == 4


def test_custom_log_format_from_haproxy_cfg() -> None:
    fmt = r'%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r'
    line = '10.0.0.1:4000 [22/Nov/2026:09:03:17.032] fe be/app1 0/0/1/7/8 404 185 ---- 1/1/0/0/2 0/0 "GET /x HTTP/1.1"'
    assert isinstance(parse_line(line), ParseError)  # not httplog
    options = ParseOptions(log_format=fmt)
    e = _entry(line, options)
    assert (e.status_code, e.response_time_ms, e.retries, e.path, e.timestamp) == (404, 8, 2, "/x", pytest.approx(UTC_TS))
    batch = prepare_text(line + "\nConnect from 1.2.3.4:5 to 6.7.8.9:80 (fe/HTTP)\n", options)
    assert (batch.accepted, batch.skipped, batch.rejected) == (1, 1, 0)
    with pytest.raises(FormatError):
        compile_format("%ci %ST")  # no date, no frontend


def test_json_layout_as_text_and_bodies() -> None:
    obj = {"client_ip": "10.0.0.1", "client_port": 4000, "request_date": "22/Nov/2026:09:03:17.032",
           "fe_name_transport": "fe_https~", "be_name": "be", "server_name": "app1", "time_request": 0,
           "time_wait": 0, "time_connect": 1, "time_response": 7, "time_active": 8, "status_code": 502,
           "bytes_read": 185, "termination_state_cookie": "SH--", "actconn": 1, "feconn": 1, "beconn": 0,
           "srv_conn": 0, "retries": 0, "srv_queue": 0, "backend_queue": 0, "http_request": "GET /a HTTP/1.1"}
    e = _entry("<134>1 2026-11-22T09:03:17.032Z lb1 haproxy 1 - - " + json.dumps(obj))
    assert (e.frontend, e.status_code, e.termination_state, e.path, e.timestamp) == ("fe_https", 502, "SH--", "/a", pytest.approx(UTC_TS))
    for kind, body in ((JSON, json.dumps([obj, obj])), (NDJSON, json.dumps(obj) + "\n" + json.dumps(obj))):
        results = [r for _, r in parse_body(kind, body.encode())]
        assert len(results) == 2 and all(isinstance(r, LogEntry) and r.status_code == 502 for r in results)


@pytest.mark.parametrize("line, reason", [
    ('1.2.3.4:1 [22/Nov/2026:09:03:17.032] stats stats/<STATS> 0/0/0/0/0 200 1715 - - LR-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"', "<STATS>"),
    ('1.2.3.4:1 [22/Nov/2026:09:03:17.032] prom prom/<PROMEX> 0/0/0/0/0 200 1715 - - LR-- 1/1/0/0/0 0/0 "GET /metrics HTTP/1.1"', "<PROMEX>"),
    ('-:- [22/Nov/2026:09:03:17.032] <OCSP-UPDATE> -/- 2/0/-1/-1/3 200 1715 - - ---- 0/0/0/0/0 0/0 "GET /ocsp HTTP/1.1"', "<OCSP-UPDATE>"),
    ("<129>Nov 22 09:03:17 haproxy[1]: Connect from 10.0.0.1:4000 to 10.0.0.2:80 (fe/HTTP)", "not a request"),
    ("<129>Nov 22 09:03:17 haproxy[1]: Proxy fe started.", "not a request"),
    ("<129>Nov 22 09:03:17 haproxy[1]: Server be/app1 is DOWN, reason: Layer4 connection problem.", "not a request"),
    ("10.0.0.1:4000 [22/Nov/2026:09:03:17.032] fe/1: SSL handshake failure", "connection-level"),
])
def test_skipped_with_a_reason(line: str, reason: str) -> None:
    result = parse_line(line)
    assert isinstance(result, Skip) and reason in result.reason
    assert prepare_text(line).skipped == 1  # the bulk path skips them too


@pytest.mark.parametrize("status", ["1000000", "99", "600", "000"])
def test_status_outside_range_rejected(status: str) -> None:
    line = MSG.replace(" 200 185 ", f" {status} 185 ")
    assert isinstance(parse_line(line), ParseError)
    batch = prepare_text(line)
    assert (batch.accepted, batch.rejected) == (0, 1) and "status" in batch.errors[0]["reason"]


def test_minus_one_status_kept() -> None:
    assert _entry(MSG.replace(" 200 185 ", " -1 185 ")).status_code == -1

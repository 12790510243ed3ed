from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ingestion_service.haproxy import LogEntry, ParseError, Skip, parse_line


def _parse_file(path: Path) -> tuple[Counter[str], Counter[int], list[LogEntry]]:
    kinds: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    entries = []
    for line in path.read_text().splitlines():
        result = parse_line(line)
        kinds[type(result).__name__] += 1
        if isinstance(result, LogEntry):
            statuses[result.status_code] += 1
            entries.append(result)
    return kinds, statuses, entries


def test_syslog_udp_capture(shared_fixtures: Path) -> None:
    kinds, statuses, entries = _parse_file(shared_fixtures / "haproxy" / "syslog-udp-haproxy-2.6.log")
    assert kinds == {"LogEntry": 221, "Skip": 7}
    assert statuses == {200: 112, 404: 51, 501: 18, 503: 40}
    assert {e.backend for e in entries} == {"be_app"}
    nosrv = [e for e in entries if e.server == "<NOSRV>"]
    assert nosrv and all(e.status_code == 503 and e.time_queue_ms == -1 for e in nosrv)
    assert all(e.termination_state == "SC--" for e in nosrv)


def test_stdout_raw_capture(shared_fixtures: Path) -> None:
    kinds, statuses, entries = _parse_file(shared_fixtures / "haproxy" / "stdout-raw-haproxy-2.6.log")
    assert kinds == {"LogEntry": 54}
    assert statuses == {200: 26, 404: 19, 501: 5, 503: 4}
    assert {e.frontend for e in entries} == {"fe_stdout"}


def test_doc_examples(shared_fixtures: Path) -> None:
    kinds, _, entries = _parse_file(shared_fixtures / "haproxy" / "doc-examples.log")
    assert kinds == {"LogEntry": 3}
    first, second, third = entries
    assert (first.frontend, first.backend, first.server) == ("http-in", "static", "srv1")
    assert (first.time_request_ms, first.time_queue_ms, first.time_connect_ms,
            first.time_response_ms, first.response_time_ms) == (10, 0, 30, 69, 109)
    assert (first.bytes_read, first.method, first.path, first.client_ip) == (2750, "GET", "/index.html", "10.0.1.2")
    assert (first.actconn, first.feconn, first.beconn, first.srv_conn, first.retries) == (1, 1, 1, 1, 0)
    assert second.status_code == 502 and second.termination_state == "PH--"
    assert third.status_code == 503 and third.time_queue_ms == -1 and third.response_time_ms == 11215
    assert third.retries == 3 and third.actconn == 205 and third.method == "HEAD"


BASE = '[22/Nov/2026:14:03:17.032] fe be/app1 0/0/1/7/8 200 185 - - ---- 1/1/0/0/0 0/0 "GET /a HTTP/1.1"'


@pytest.mark.parametrize(
    "line",
    [
        "10.0.0.1:4000 " + BASE,
        "<134>Nov 22 14:03:17 haproxy[13096]: 10.0.0.1:4000 " + BASE,
        "<134>Nov  2 14:03:17 lb1 haproxy[13096]: 10.0.0.1:4000 " + BASE,
        "Nov 22 14:03:17 lb1 haproxy[13096]: 10.0.0.1:4000 " + BASE,
        "<134>1 2026-11-22T14:03:17.032+00:00 lb1 haproxy 13096 - - 10.0.0.1:4000 " + BASE,
        '<134>1 2026-11-22T14:03:17Z lb1 haproxy 13096 - [meta x="a [b"] 10.0.0.1:4000 ' + BASE,
    ],
)
def test_syslog_headers_are_stripped(line: str) -> None:
    entry = parse_line(line)
    assert isinstance(entry, LogEntry), entry
    assert (entry.client_ip, entry.frontend, entry.server, entry.response_time_ms) == ("10.0.0.1", "fe", "app1", 8)
    assert entry.timestamp == pytest.approx(1795356197.032)


def test_ipv6_captures_logasap_redispatch_truncated() -> None:
    line = ('2001:db8::1:5555 [22/Nov/2026:14:03:17.032] fe~ be/<NOSRV> -1/-1/-1/-1/+30 -1 +0 - - CR-- '
            '5/4/3/0/+2 1/7 {host.example|Mozilla/5.0 (X11)} {} "GET /very/long/pa')
    e = parse_line(line)
    assert isinstance(e, LogEntry), e
    assert e.client_ip == "2001:db8::1" and e.frontend == "fe" and e.server == "<NOSRV>"
    assert e.status_code == -1 and e.response_time_ms == 30 and e.logasap and e.redispatched
    assert (e.retries, e.srv_queue, e.backend_queue) == (2, 1, 7)
    assert e.truncated and e.path == "/very/long/pa"


def test_badreq() -> None:
    e = parse_line('1.2.3.4:1 [22/Nov/2026:14:03:17.032] fe fe/<NOSRV> -1/-1/-1/-1/0 400 187 - - PR-- 1/1/0/0/0 0/0 "<BADREQ>"')
    assert isinstance(e, LogEntry) and e.status_code == 400 and e.method == "<BADREQ>"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("<133>Nov 22 14:03:16 haproxy[1]: Server be_app/app1 is UP, reason: Layer4 check passed", Skip),
        ("<128>Nov 22 14:03:21 haproxy[1]: backend be_app has no server available!", Skip),
        ("Proxy fe_main started.", Skip),
        ("1.2.3.4:1 [22/Nov/2026:14:03:17.032] fe/1: SSL handshake failure", Skip),
        ("1.2.3.4:1 [22/Nov/2026:14:03:17.032] fe be/s 0/0/5 200 -- 1/1/0/0/0 0/0", LogEntry),  # tcplog: a TCP session
        ("hello world", ParseError),
        ("1.2.3.4:1 [22/Nov/2026:14:03:17.032] fe be/s 0/0/0/7/x 200 185 - - ---- 1/1/0/0/0 0/0 \"GET /\"", ParseError),
        ("1.2.3.4:1 [31/Feb/2026:14:03:17.032] fe be/s 0/0/0/7/7 200 185 - - ---- 1/1/0/0/0 0/0 \"GET /\"", ParseError),
        ("1.2.3.4:1 [22/Nov/2026:14:03:17.032] fe be/s 0/0/0/7/7 200", ParseError),
    ],
)
def test_skip_and_errors(line: str, kind: type) -> None:
    result = parse_line(line)
    assert isinstance(result, kind), result
    assert result.tcp if isinstance(result, LogEntry) else result.reason


def test_error_reason_names_the_field() -> None:
    result = parse_line('1.2.3.4:1 [22/Nov/2026:14:03:17.032] fe be/s 0/0/0/7/7 2x0 185 - - ---- 1/1/0/0/0 0/0 "GET /"')
    assert isinstance(result, ParseError) and "status" in result.reason

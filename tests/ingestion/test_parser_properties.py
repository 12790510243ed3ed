from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion_service.haproxy import LogEntry, ParseError, Skip, parse_line
from tests.ingestion.lines import format_line

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=20)
timer = st.integers(min_value=-1, max_value=10**6)
count = st.integers(min_value=0, max_value=10**5)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.lists(st.sampled_from(["2001", "db8", "0", "ffff", "a1"]), min_size=3, max_size=6).map(
    lambda parts: ":".join(parts) + "::1")
headers = st.sampled_from(["", "<134>Nov 22 14:03:17 haproxy[42]: ", "<134>Nov  2 14:03:17 lb1 haproxy[42]: ",
                           "<134>1 2026-11-22T14:03:17.032Z lb1 haproxy 42 - - ", "haproxy[7]: "])


@st.composite
def entries(draw: st.DrawFn) -> LogEntry:
    ms = draw(st.integers(min_value=0, max_value=4_102_444_800_000))  # 1970 .. 2100
    logasap = draw(st.booleans())
    return LogEntry(
        timestamp=ms / 1000, frontend=draw(names), backend=draw(names),
        server=draw(st.one_of(names, st.just("<NOSRV>"))),
        status_code=draw(st.one_of(st.just(-1), st.integers(100, 599))),
        response_time_ms=draw(st.integers(0, 10**7)), time_request_ms=draw(timer),
        time_queue_ms=draw(timer), time_connect_ms=draw(timer), time_response_ms=draw(timer),
        bytes_read=draw(count), termination_state=draw(st.text(alphabet="-CSPRIDLKcsHQTEU", min_size=4, max_size=4)),
        actconn=draw(count), feconn=draw(count), beconn=draw(count), srv_conn=draw(count),
        retries=draw(st.integers(0, 10)), srv_queue=draw(count), backend_queue=draw(count),
        method=draw(st.sampled_from(["GET", "POST", "HEAD", "<BADREQ>"])),
        path=draw(st.text(alphabet="/abc?=&%.0123", min_size=1, max_size=30)),
        client_ip=draw(st.one_of(ipv4, ipv6)), logasap=logasap, redispatched=draw(st.booleans()),
        truncated=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(entries(), headers, st.sampled_from(["", "{a.example|curl/8} {}", "{x y z}"]))
def test_generated_line_parses_to_what_generated_it(entry: LogEntry, header: str, captures: str) -> None:
    parsed = parse_line(format_line(entry, header=header, captures=captures))
    assert isinstance(parsed, LogEntry), parsed
    assert parsed._replace(timestamp=0) == entry._replace(timestamp=0)
    assert abs(parsed.timestamp - entry.timestamp) < 1e-6


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    assert isinstance(parse_line(text), (LogEntry, Skip, ParseError))


@settings(max_examples=300, deadline=None)
@given(entries(), st.integers(0, 200), st.text(max_size=5))
def test_damaged_lines_never_raise(entry: LogEntry, cut: int, junk: str) -> None:
    line = format_line(entry)
    damaged = line[:cut] + junk + line[cut + len(junk):]
    assert isinstance(parse_line(damaged), (LogEntry, Skip, ParseError))

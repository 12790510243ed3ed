"""The bulk text path (one regex over the body) counts exactly what parse_line + Aggregator count."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion_service.haproxy import parse_line
from ingestion_service.haproxy.fast import scan
from ingestion_service.ingest.pipeline import Prepared, prepare, prepare_text
from tests.ingestion.lines import format_line
from tests.ingestion.test_parser_properties import entries, headers

noise = st.sampled_from([
    "", "   ", "garbage", "<133>Nov 22 14:03:16 haproxy[1]: Server be/s is DOWN, reason: x",
    '1.2.3.4:1 [31/Feb/2026:14:03:17.032] fe be/s 0/0/0/7/7 200 185 - - ---- 1/1/0/0/0 0/0 "GET /"',
    '1.2.3.4:1 [22/Nov/2026:14:03:99.032] fe be/s 0/0/0/7/7 200 185 - - ---- 1/1/0/0/0 0/0 "GET /"',
    '1.2.3.4:1 [22/Nov/2026:14:03:17.032] fe be/s 0/00/0/7/7 200 185 - - ---- 1/1/0/0/0 0/0 "GET /"',
    '1.2.3.4:1 [22/Nov/2026:14:03:17.032] fe be/s 0/0/0/7/7 200 185 - - ---- 1/1/0/0/0 0/0\r',
    "1.2.3.4:1 [22/Nov/2026:14:03:17.032] fe/1: SSL handshake failure",
])


def _slow(text: str) -> Prepared:
    return prepare((n, parse_line(line)) for n, line in enumerate(text.split("\n"), 1)
                   if line and not line.isspace())


def _same(a: Prepared, b: Prepared) -> None:
    assert (a.accepted, a.rejected, a.skipped, a.errors) == (b.accepted, b.rejected, b.skipped, b.errors)
    ga, gb = a.aggregator.groups, b.aggregator.groups
    assert ga.keys() == gb.keys()
    for k in ga:
        x, y = ga[k], gb[k]
        assert ((x.n, x.mx, x.status, x.term, x.buckets, x.tr_buckets, x.prom)
                == (y.n, y.mx, y.status, y.term, y.buckets, y.tr_buckets, y.prom)), k
    assert a.aggregator.fold().scopes == b.aggregator.fold().scopes


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.tuples(entries(), headers).map(lambda t: format_line(t[0], header=t[1])), noise),
                max_size=40))
def test_bulk_path_equals_line_by_line(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert len(scan(text)) == text.count("\n") + 1
    _same(prepare_text(text), _slow(text))


def test_bulk_path_on_fixtures(shared_fixtures: Path) -> None:
    for path in sorted((shared_fixtures / "haproxy").glob("*.log")):
        text = path.read_text()
        _same(prepare_text(text), _slow(text))
    assert prepare_text((shared_fixtures / "haproxy" / "syslog-udp-haproxy-2.6.log").read_text()).accepted == 221

from __future__ import annotations

from pathlib import Path

from ingestion_service.haproxy import LogEntry, parse_line
from ingestion_service.signals import aggregate
from ingestion_service.signals.aggregate import BACKEND, FRONTEND, SERVER, SITE
from ingestion_service.sketch import Sketch


def _entries(path: Path) -> list[LogEntry]:
    return [e for e in map(parse_line, path.read_text().splitlines()) if isinstance(e, LogEntry)]


def test_fixture_batch_folds_into_every_scope(shared_fixtures: Path) -> None:
    entries = _entries(shared_fixtures / "haproxy" / "syslog-udp-haproxy-2.6.log")
    deltas = aggregate(entries)
    minutes = {int(e.timestamp // 60) * 60 for e in entries}
    site = [d for (k, _, _), d in deltas.scopes.items() if k == SITE]
    assert len(site) == len(minutes)
    assert sum(d.sums["n"] for d in site) == 221
    assert sum(d.sums.get("s:503", 0) for d in site) == 40
    assert sum(d.sums.get("e5", 0) for d in site) == 58 and sum(d.sums.get("e4", 0) for d in site) == 51
    for kind in (FRONTEND, BACKEND, SERVER):
        assert sum(d.sums["n"] for (k, _, _), d in deltas.scopes.items() if k == kind) == 221
    servers = {name for (k, name, _) in deltas.scopes if k == SERVER}
    assert servers == {"be_app/app1", "be_app/<NOSRV>"}
    assert sum(d.sums.get("t:SC--", 0) for d in site) == sum(1 for e in entries if e.termination_state == "SC--")
    assert deltas.lines == 221 and deltas.newest == max(e.timestamp for e in entries)


def test_sums_maxima_and_histogram_per_minute() -> None:
    base = 1_800_000_000 - 1_800_000_000 % 60
    rows = [
        LogEntry(base + 1, "fe", "be", "a", 200, 10, time_queue_ms=0, bytes_read=100, actconn=5, srv_conn=2),
        LogEntry(base + 2, "fe", "be", "b", 503, 30, time_queue_ms=4, bytes_read=50, actconn=9, srv_conn=1,
                 srv_queue=3, backend_queue=1, retries=2, termination_state="CD--"),
        LogEntry(base + 61, "fe", "be", "a", 404, 0, actconn=1),
    ]
    deltas = aggregate(rows)
    first = deltas.scopes[(BACKEND, "be", base)]
    assert first.sums == {"n": 2, "e5": 1, "ab": 1, "by": 150, "qd": 1, "rt": 2, "sa": 14, "sc": 3, "sq": 3,
                          "sb": 1, "ta": 40, "s:200": 1, "s:503": 1, "t:----": 1, "t:CD--": 1,
                          "tw": 4, "ur": 2, "uc": 2, "rq": 1, "ca": 1}
    assert first.maxima == {"ta": 30, "ac": 9, "sc": 2, "sq": 3, "bq": 1, "rt": 2}
    sk = Sketch(first.buckets)
    assert sk.count == 2 and abs(sk.quantile(1.0) - 30) <= 0.3
    second = deltas.scopes[(SITE, "", base + 60)]
    assert second.sums["n"] == 1 and second.sums["e4"] == 1 and Sketch(second.buckets).quantile(0.5) == 0
    pair = deltas.pairs[("fe", "be")]
    assert pair.classes == {"2xx": 1, "5xx": 1, "4xx": 1} and pair.ta_sum_ms == 40


def test_rename_folds_names_over_the_cap_into_other() -> None:
    rows = [LogEntry(60.0 * i, "fe", f"be{i}", "s", 200, 5) for i in range(4)]
    deltas = aggregate(rows, rename=lambda kind, name: name if name in {"fe", "be0", "be0/s"} else "__other__")
    backends = {name for (k, name, _) in deltas.scopes if k == BACKEND}
    servers = {name for (k, name, _) in deltas.scopes if k == SERVER}
    assert backends == {"be0", "__other__"} and servers == {"be0/s", "__other__"}
    assert sum(d.sums["n"] for (k, n, _), d in deltas.scopes.items() if k == BACKEND and n == "__other__") == 3

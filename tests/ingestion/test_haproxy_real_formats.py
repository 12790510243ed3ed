"""Lines written by the real haproxy binary for each logging option (httplog, httpslog, httplog
clf, a custom log-format, tcplog) read back field by field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion_service.haproxy import LogEntry, parse_line
from ingestion_service.haproxy.models import ParseOptions
from ingestion_service.ingest.pipeline import prepare_text
from tests.ingestion.haproxy_real import CUSTOM, haproxy_lines

pytestmark = [pytest.mark.real, pytest.mark.slow]
# path → (backend, server, status, termination state) as HAProxy answers it here
EXPECTED = {"/": ("be_app", "app1", 200, "----"), "/missing": ("be_app", "app1", 404, "----"),
            "/boom": ("be_app", "app1", 500, "----"), "/none": ("be_none", "<NOSRV>", 503, "SC--"),
            "/refused": ("be_refused", "dead1", 503, "SC--"), "/slow": ("be_app", "app1", 504, "sH--"),
            "": (None, "<NOSRV>", 400, "CR--")}  # client abort: <BADREQ>


def test_every_option_as_the_real_binary_writes_it(tmp_path: Path) -> None:
    with haproxy_lines(tmp_path) as lines:
        for option in ("httplog", "httpslog", "clf", "custom"):
            options = ParseOptions(log_format=CUSTOM if option == "custom" else None)
            entries = [parse_line(x, options) for x in lines[option]]
            assert len(entries) == len(EXPECTED) and all(isinstance(e, LogEntry) for e in entries), (option, entries)
            seen = {}
            for e in entries:
                assert isinstance(e, LogEntry) and e.frontend == f"fe_{option}"
                seen[e.path] = (e.backend if e.path else None, e.server, e.status_code, e.termination_state)
            assert seen == EXPECTED, option
            by_path = {e.path: e for e in entries if isinstance(e, LogEntry)}
            assert by_path["/refused"].time_connect_ms == -1 and by_path["/refused"].retries == 3
            assert by_path["/slow"].time_response_ms == -1 and by_path["/slow"].response_time_ms >= 300
            assert by_path["/none"].time_queue_ms == -1
            batch = prepare_text("\n".join(lines[option]), options)  # the bulk path agrees
            assert (batch.accepted, batch.rejected) == (len(EXPECTED), 0), (option, batch.errors)
        tcp = [parse_line(x) for x in lines["tcplog"]]
        assert tcp and all(isinstance(e, LogEntry) and e.tcp and e.frontend == "fe_tcp" and e.backend == "be_tcp"
                           for e in tcp)
        assert prepare_text("\n".join(lines["tcplog"])).accepted == len(tcp)

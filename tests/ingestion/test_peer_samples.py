"""215 lines from 14 other projects' test suites (../shared/fixtures/haproxy/peer-samples.jsonl),
each with the outcome and fields that project's test expects. Where we differ on purpose, the
expectation is translated, and the test says why."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ingestion_service.haproxy import LogEntry, ParseError, Skip, parse_line
from ingestion_service.haproxy.fields import INTERNAL

FIELDS = {"frontend": "frontend", "backend": "backend", "server": "server", "tq_ms": "time_request_ms",
          "tw_ms": "time_queue_ms", "tc_ms": "time_connect_ms", "tr_ms": "time_response_ms",
          "ta_ms": "response_time_ms", "status_code": "status_code", "bytes": "bytes_read",
          "termination_state": "termination_state", "actconn": "actconn", "feconn": "feconn",
          "beconn": "beconn", "srv_conn": "srv_conn", "retries": "retries", "srv_queue": "srv_queue",
          "backend_queue": "backend_queue", "method": "method", "path": "path"}


def _disagreements(sample: dict[str, Any]) -> list[str]:
    expected, result = sample["expected"], parse_line(sample["line"])
    outcome = expected["outcome"]
    if sample["kind"] == "tcp":  # we count tcplog lines as TCP sessions (issue 13), peers skip them
        if not (isinstance(result, LogEntry) and result.tcp):
            return [f"tcp line not a TCP session: {result}"]
        return []
    if isinstance(result, Skip) and "internal client" in result.reason and any(n in sample["line"] for n in INTERNAL):
        return []  # HAProxy's own stats/prometheus applets: skipped on purpose (not site traffic)
    if sample["advisory"] and isinstance(result, LogEntry):
        return []  # advisory: the peer's own strictness about the request text; the line is valid httplog
    if outcome == "accepted":
        if not isinstance(result, LogEntry):
            return [f"not accepted: {result}"]
        wrong = []
        for key, attr in FIELDS.items():
            if key in expected:
                want = expected[key]
                if key == "frontend":
                    want = want[:-1] if want.endswith("~") else want  # names as configured
                if getattr(result, attr) != want:
                    wrong.append(f"{key}: {getattr(result, attr)!r} != {want!r}")
        if "timestamp" in expected:
            want_ts = datetime.fromisoformat(expected["timestamp"].replace("Z", "+00:00")).timestamp()
            if abs(result.timestamp - want_ts) > 0.001:
                got = datetime.fromtimestamp(result.timestamp, timezone.utc).isoformat()
                wrong.append(f"timestamp: {got} != {expected['timestamp']}")
        if expected.get("status_nonzero") and result.status_code == 0:
            wrong.append("status not set")
        return wrong
    if outcome == "skipped":
        return [] if isinstance(result, Skip) else [f"not skipped: {result}"]
    if outcome == "rejected":
        return [] if isinstance(result, ParseError) else [f"not rejected: {result}"]
    return [] if not isinstance(result, LogEntry) else [f"accepted: {result}"]  # not_accepted


def test_peer_samples_all_agree(shared_fixtures: Path) -> None:
    samples = [json.loads(x) for x in (shared_fixtures / "haproxy" / "peer-samples.jsonl").read_text().splitlines()]
    assert len(samples) == 215
    problems = {s["id"]: d for s in samples if (d := _disagreements(s))}
    agree = len(samples) - len(problems)
    advisory = sum(1 for s in samples if s["advisory"])
    print(f"peer samples: {agree} of {len(samples)} agree ({advisory} advisory expectations not binding)")
    assert problems == {}

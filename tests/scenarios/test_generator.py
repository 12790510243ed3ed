"""The generator: lines parse as HAProxy httplog, runs are deterministic, rates/mixes/phases match."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from tests.scenarios.generator import generate
from tests.scenarios.model import Scenario, load_scenario, scenario_files, seconds
from tests.scenarios.stats import quantile

# HAProxy 2.x `option httplog` as documented (configuration manual 8.2.3), written independently
# of the generator's formatter.
HTTPLOG = re.compile(
    r"^(?:<\d{1,3}>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d haproxy\[\d+\]: )?"
    r"(?P<ip>\d{1,3}(?:\.\d{1,3}){3}):(?P<port>\d{1,5}) "
    r"\[(?P<date>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3})\] "
    r"(?P<fe>\S+) (?P<be>[^/\s]+)/(?P<srv>\S+) "
    r"(?P<TR>-1|\d+)/(?P<Tw>-1|\d+)/(?P<Tc>-1|\d+)/(?P<Tr>-1|\d+)/(?P<Ta>\d+) "
    r"(?P<status>-1|\d{3}) (?P<bytes>\d+) - - (?P<term>[-A-Za-z]{4}) "
    r"(?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\+?\d+) (?P<sq>\d+)/(?P<bq>\d+) "
    r'"(?:<BADREQ>|(?P<method>[A-Z]+) (?P<path>/\S*) HTTP/1\.1)"$'
)
END = datetime(2026, 11, 22, 14, 30, 15, 500000, tzinfo=UTC)


def _scenario(**overrides: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "unit",
        "description": "unit test scenario",
        "duration": "10m",
        "seed": 7,
        "analyze": {"window": "5m"},
        "baseline": {"backends": [
            {"name": "be_a", "frontend": "fe", "rps": 20, "servers": ["a1", "a2", "a3"], "maxconn": 50,
             "latency": {"p50_ms": 50, "p95_ms": 200}, "status": {200: 0.9, 404: 0.07, 500: 0.03},
             "paths": [{"path": "/a", "weight": 3}, {"path": "/b", "weight": 1, "method": "POST"}]},
            {"name": "be_b", "frontend": "fe", "rps": 5, "servers": ["b1"],
             "latency": {"p50_ms": 5, "p95_ms": 20}},
        ]},
        "expect": {"overall_severity": "ok"},
    }
    data.update(overrides)
    return Scenario.model_validate(data)


def _parsed(scenario: Scenario, style: str = "raw") -> list[re.Match[str]]:
    generated = generate(scenario, end=END)
    texts = tuple(text for _, text in generated.messages)
    lines = [line for line in generated.lines(style) if not line.endswith(texts) or not texts]  # type: ignore[arg-type]
    matches = [HTTPLOG.match(line) for line in lines]
    bad = [line for line, m in zip(lines, matches, strict=True) if m is None]
    assert not bad, bad[:3]
    return [m for m in matches if m is not None]


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_every_public_scenario_generates_valid_httplog(path) -> None:
    scenario = load_scenario(path)
    generated = generate(scenario, end=END)
    assert len(generated.requests) > 500
    lines = generated.lines("raw")
    requests = [line for line in lines if HTTPLOG.match(line)]
    assert len(requests) == len(generated.requests)
    assert len(lines) - len(requests) == len(generated.messages)
    messages = tuple(text for _, text in generated.messages)
    for line in generated.lines("syslog")[::7]:
        assert HTTPLOG.match(line) or (messages and line.endswith(messages)), line
    haproxy = pytest.importorskip("ingestion_service.haproxy")
    for text in messages:  # ingestion skips them (a rejected line fails the scenario)
        assert isinstance(haproxy.parse_line(text), haproxy.Skip), text
    for line in generated.lines("mixed")[::11]:
        assert isinstance(haproxy.parse_line(line), haproxy.LogEntry | haproxy.Skip), line


def test_same_seed_same_lines_and_other_seed_other_lines() -> None:
    first = generate(_scenario(), end=END).lines()
    assert first == generate(_scenario(), end=END).lines()
    assert first != generate(_scenario(seed=8), end=END).lines()


def test_timestamps_are_sorted_and_end_at_now() -> None:
    generated = generate(_scenario(), end=END)
    times = [r.at for r in generated.requests]
    assert times == sorted(times)
    assert END.timestamp() - 600 <= times[0] < END.timestamp() - 598
    assert END.timestamp() - 1.5 < times[-1] < END.timestamp()
    last = _parsed(_scenario())[-1]
    assert last["date"].startswith("22/Nov/2026:14:30:1")


def test_baseline_rates_status_mix_and_latency_match_the_spec() -> None:
    requests = generate(_scenario(duration="20m"), end=END).requests
    per_backend = Counter(r.backend for r in requests)
    assert per_backend["be_a"] / 1200 == pytest.approx(20, rel=0.05)
    assert per_backend["be_b"] / 1200 == pytest.approx(5, rel=0.06)
    a = [r for r in requests if r.backend == "be_a"]
    mix = Counter(r.status for r in a)
    assert mix[200] / len(a) == pytest.approx(0.90, abs=0.01)
    assert mix[404] / len(a) == pytest.approx(0.07, abs=0.01)
    assert mix[500] / len(a) == pytest.approx(0.03, abs=0.006)
    assert {r.status for r in requests if r.backend == "be_b"} == {200}
    ta = sorted(r.t_active for r in a)
    assert quantile(ta, 0.5) == pytest.approx(50, rel=0.08)
    assert quantile(ta, 0.95) == pytest.approx(200, rel=0.1)
    paths = Counter(r.path for r in a)
    assert paths["/a"] / len(a) == pytest.approx(0.75, abs=0.02)
    assert {r.method for r in a if r.path == "/b"} == {"POST"}
    assert set(Counter(r.server for r in a)) == {"a1", "a2", "a3"}


def test_timers_add_up_and_connections_stay_under_maxconn() -> None:
    for r in generate(_scenario(), end=END).requests:
        if r.t_connect >= 0 and r.t_response >= 0:
            assert r.t_request + r.t_queue + r.t_connect + r.t_response <= r.t_active
        assert r.srv_conn <= 50
        assert r.actconn >= r.feconn >= r.beconn >= r.srv_conn


def _in_phase(scenario: Scenario, start: str, end: str | None = None) -> tuple[float, float]:
    begin = END.timestamp() - scenario.duration
    return begin + seconds(start), begin + seconds(end) if end else END.timestamp()


def test_latency_factor_and_added_ms_apply_to_the_backend_only() -> None:
    scenario = _scenario(phases=[
        {"start": "5m", "backend": "be_a", "latency": {"factor": 4}},
        {"start": "5m", "backend": "be_b", "latency": {"add_ms": 300}},
    ])
    lo, _ = _in_phase(scenario, "5m")
    requests = generate(scenario, end=END).requests
    before = [r.t_active for r in requests if r.backend == "be_a" and r.at < lo and r.status != 503]
    after = [r.t_active for r in requests if r.backend == "be_a" and r.at >= lo and r.status != 503]
    assert statistics.median(after) / statistics.median(before) == pytest.approx(4, rel=0.12)
    b_after = [r.t_active for r in requests if r.backend == "be_b" and r.at >= lo]
    assert statistics.median(b_after) == pytest.approx(305, abs=15)


def test_error_rate_on_one_path_of_one_backend() -> None:
    scenario = _scenario(phases=[
        {"start": "4m", "end": "8m", "backend": "be_a", "path": "/b", "errors": {"rate": 0.5, "status": [401]}},
    ])
    lo, hi = _in_phase(scenario, "4m", "8m")
    requests = generate(scenario, end=END).requests
    hit = [r for r in requests if lo <= r.at < hi and r.path == "/b"]
    assert sum(r.status == 401 for r in hit) / len(hit) == pytest.approx(0.5, abs=0.05)
    assert not [r for r in requests if r.status == 401 and (r.path != "/b" or not lo <= r.at < hi)]


def test_traffic_to_zero_and_times_n() -> None:
    zero = _scenario(phases=[{"start": "6m", "traffic": {"factor": 0}}])
    lo, _ = _in_phase(zero, "6m")
    assert not [r for r in generate(zero, end=END).requests if r.at >= lo]
    spike = _scenario(phases=[{"start": "5m", "backend": "be_b", "traffic": {"factor": 3}}])
    lo, _ = _in_phase(spike, "5m")
    b = [r for r in generate(spike, end=END).requests if r.backend == "be_b"]
    assert sum(r.at >= lo for r in b) / sum(r.at < lo for r in b) == pytest.approx(3, rel=0.12)


def test_one_failing_server_in_the_pool() -> None:
    scenario = _scenario(phases=[
        {"start": "5m", "backend": "be_a", "server": "a2", "errors": {"rate": 1.0, "status": [502]}},
    ])
    lo, _ = _in_phase(scenario, "5m")
    requests = [r for r in generate(scenario, end=END).requests if r.at >= lo and r.backend == "be_a"]
    bad = [r for r in requests if r.status == 502]
    assert {r.server for r in bad} == {"a2"}
    assert {r.termination for r in bad} == {"SH--"}
    assert len(bad) / len(requests) == pytest.approx(1 / 3, abs=0.03)


def test_nosrv_lines_look_like_haproxy_without_a_server() -> None:
    scenario = _scenario(phases=[{"start": "5m", "backend": "be_b", "nosrv": {"rate": 1.0},
                                  "message": "backend be_b has no server available!"}])
    matches = _parsed(scenario)
    nosrv = [m for m in matches if m["srv"] == "<NOSRV>"]
    assert nosrv and all(m["be"] == "be_b" and m["status"] == "503" and m["term"] == "SC--" for m in nosrv)
    assert all(m["Tw"] == m["Tc"] == m["Tr"] == "-1" and m["sc"] == "0" for m in nosrv)
    lines = generate(scenario, end=END).lines()
    assert "backend be_b has no server available!" in lines


def test_explicit_queue_grows_and_pins_servers_at_maxconn() -> None:
    scenario = _scenario(phases=[{"start": "5m", "backend": "be_a", "queue": {"srv_queue": 40, "wait_ms": 1000}}])
    lo, _ = _in_phase(scenario, "5m")
    queued = [r for r in generate(scenario, end=END).requests if r.backend == "be_a" and r.at >= lo]
    assert all(r.srv_conn == 50 for r in queued)
    first, last = queued[: len(queued) // 10], queued[-len(queued) // 10:]
    assert max(r.srv_queue for r in first) < 6 and min(r.srv_queue for r in last) >= 36
    assert statistics.mean(r.t_queue for r in last) == pytest.approx(1000, rel=0.1)


def test_over_capacity_queues_until_timeout_queue_then_503_sq() -> None:
    backend = {"name": "be_q", "frontend": "fe", "rps": 10, "servers": ["q1", "q2"], "maxconn": 2,
               "timeout_queue_ms": 2000, "latency": {"p50_ms": 100, "p95_ms": 150}}
    scenario = _scenario(baseline={"backends": [backend]},
                         phases=[{"start": "5m", "backend": "be_q", "traffic": {"factor": 4}}])
    lo, _ = _in_phase(scenario, "5m")
    requests = generate(scenario, end=END).requests
    assert all(r.t_queue == 0 and r.srv_queue == 0 for r in requests if r.at < lo)
    phase = [r for r in requests if r.at >= lo]
    waits = [r.t_queue for r in phase[:200] if r.status != 503]
    assert waits[-1] > waits[0]
    timeouts = [r for r in phase if r.termination == "sQ--"]
    assert timeouts and all(r.status == 503 and r.t_queue == 2000 and r.t_connect == -1 for r in timeouts)
    assert max(r.srv_queue for r in phase) > 10 and {r.srv_conn for r in phase[100:]} == {2}


def test_flood_from_one_client() -> None:
    scenario = _scenario(phases=[{"start": "5m", "backend": "be_a",
                                  "flood": {"client_ip": "203.0.113.9", "rps": 10, "status": 429, "path": "/login"}}])
    matches = _parsed(scenario)
    flood = [m for m in matches if m["ip"] == "203.0.113.9"]
    assert len(flood) / 300 == pytest.approx(10, rel=0.1)
    assert {(m["status"], m["path"], m["be"]) for m in flood} == {("429", "/login", "be_a")}


def test_lines_parse_with_the_ingestion_parser() -> None:
    haproxy = pytest.importorskip("ingestion_service.haproxy")
    scenario = _scenario(phases=[
        {"start": "5m", "backend": "be_b", "nosrv": {"rate": 0.5}, "message": "Server be_b/b1 is DOWN"},
    ])
    generated = generate(scenario, end=END)
    for style in ("raw", "syslog"):
        results = [haproxy.parse_line(line) for line in generated.lines(style)]  # type: ignore[arg-type]
        entries = [r for r in results if isinstance(r, haproxy.LogEntry)]
        assert len(entries) == len(generated.requests)
        assert sum(isinstance(r, haproxy.Skip) for r in results) == 1
        for entry, request in zip(entries, generated.requests, strict=True):
            assert (entry.backend, entry.server, entry.status_code, entry.response_time_ms, entry.srv_queue) == (
                request.backend, request.server, request.status, request.t_active, request.srv_queue)
            assert entry.timestamp == pytest.approx(request.at, abs=0.001)


@pytest.mark.parametrize("change, message", [
    ({"phases": [{"start": "1m", "backend": "nope"}]}, "unknown backend"),
    ({"phases": [{"start": "1m", "end": "20m"}]}, "start < end <= duration"),
    ({"phases": [{"start": "1m", "backend": "be_a", "server": "b1"}]}, "not in the phase's backend"),
    ({"phases": [{"start": "1m", "flood": {"client_ip": "1.2.3.4", "rps": 1}}]}, "needs a backend"),
    ({"expect": {"overall_severity": "ok", "flagged": ["errors"], "ok": ["errors"]}}, "both flagged and ok"),
    ({"expect": {"overall_severity": "bad"}}, "overall_severity"),
    ({"duration": "ten minutes"}, "not a duration"),
    ({"colour": "blue"}, "Extra inputs"),
])
def test_invalid_scenarios_are_refused_with_the_reason(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _scenario(**change)

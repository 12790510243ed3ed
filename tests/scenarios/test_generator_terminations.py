"""The generator's newer shapes, read back with ingestion's own parser: rate patterns, several
frontends, retries and redispatches, refusing servers, client aborts, proxy denials, server
timeouts and lines mixing syslog headers with headerless ones."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import pytest
from pydantic import ValidationError

from tests.scenarios.generator import generate
from tests.scenarios.model import Scenario
from tests.scenarios.replay import split_mixed
from tests.scenarios.test_generator import END, HTTPLOG

haproxy = pytest.importorskip("ingestion_service.haproxy")
START = END.timestamp() - 600


def _scenario(backends: list[dict[str, Any]] | None = None, phases: list[dict[str, Any]] | None = None,
              **overrides: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "unit", "description": "unit", "duration": "10m", "seed": 11, "analyze": {"window": "5m"},
        "baseline": {"backends": backends or [
            {"name": "be_a", "frontend": "fe", "rps": 20, "servers": ["a1", "a2", "a3"],
             "latency": {"p50_ms": 50, "p95_ms": 200}, "paths": [{"path": "/a"}]},
        ]},
        "phases": phases or [],
        "expect": {"overall_severity": "ok"},
    }
    data.update(overrides)
    return Scenario.model_validate(data)


def _entries(scenario: Scenario, style: str = "raw") -> list[Any]:
    """Every generated line parsed by ingestion: all of them requests, none rejected."""
    generated = generate(scenario, end=END)
    results = [haproxy.parse_line(line) for line in generated.lines(style)]  # type: ignore[arg-type]
    bad = [(line, r) for line, r in zip(generated.lines(style), results, strict=True)  # type: ignore[arg-type]
           if not isinstance(r, haproxy.LogEntry)]
    assert not bad, bad[:3]
    assert all(HTTPLOG.match(line) for line in generated.lines("raw")[::5])
    return results


def _after(entries: list[Any], offset_s: float) -> list[Any]:
    return [e for e in entries if e.timestamp >= START + offset_s]


def test_diurnal_pattern_declines_smoothly_from_its_peak() -> None:
    backend = {"name": "be_a", "frontend": "fe", "rps": 20, "servers": ["a1"], "latency": {"p50_ms": 20, "p95_ms": 60},
               "pattern": {"kind": "diurnal", "amplitude": 0.5, "period": "40m", "phase": "0m"}}
    entries = _entries(_scenario([backend]))
    per_minute = Counter(int((e.timestamp - START) // 60) for e in entries)
    # 1 + 0.5 cos(2π t / 40m): 30/s at the start, 20/s at minute 10, falling all the way
    assert per_minute[0] / 60 == pytest.approx(29.9, rel=0.08)
    assert per_minute[9] / 60 == pytest.approx(20 * (1 + 0.5 * 0.0785), rel=0.1)
    thirds = [sum(per_minute[m] for m in range(k, k + 3)) for k in (0, 3, 6)]
    assert thirds[0] > thirds[1] > thirds[2]


def test_bursts_feed_a_backend_every_period_and_leave_it_silent_between() -> None:
    backend = {"name": "be_batch", "frontend": "fe", "rps": 2, "servers": ["b1"], "latency": {"p50_ms": 20, "p95_ms": 60},
               "pattern": {"kind": "bursts", "every": "4m", "length": "30s", "factor": 10, "idle": 0, "offset": "1m"}}
    entries = _entries(_scenario([backend]))
    offsets = [e.timestamp - START for e in entries]
    assert all((o - 60) % 240 < 31 for o in offsets)  # only inside 1m-1m30, 5m-5m30, 9m-9m30
    inside = [o for o in offsets if 60 <= o < 90]
    assert len(inside) / 30 == pytest.approx(20, rel=0.15)


def test_a_backend_reached_from_several_frontends_by_share() -> None:
    backends = [
        {"name": "be_api", "frontends": {"fe_web": 0.7, "fe_mobile": 0.3}, "rps": 20, "servers": ["api1", "api2"],
         "latency": {"p50_ms": 30, "p95_ms": 90}},
        {"name": "be_app", "frontend": "fe_mobile", "rps": 5, "servers": ["app1"], "latency": {"p50_ms": 30, "p95_ms": 90}},
    ]
    entries = _entries(_scenario(backends))
    api = Counter(e.frontend for e in entries if e.backend == "be_api")
    assert api["fe_web"] / sum(api.values()) == pytest.approx(0.7, abs=0.02)
    assert {e.frontend for e in entries if e.backend == "be_app"} == {"fe_mobile"}
    assert all(e.actconn >= e.feconn for e in entries)


def test_a_frontend_losing_traffic_takes_its_share_of_a_shared_backend_with_it() -> None:
    backends = [
        {"name": "be_api", "frontends": {"fe_web": 0.5, "fe_partner": 0.5}, "rps": 20, "servers": ["api1"],
         "latency": {"p50_ms": 30, "p95_ms": 90}},
        {"name": "be_feed", "frontend": "fe_partner", "rps": 10, "servers": ["feed1"],
         "latency": {"p50_ms": 30, "p95_ms": 90}},
    ]
    phases = [{"start": "5m", "frontend": "fe_partner", "traffic": {"factor": 0.4}}]
    entries = _entries(_scenario(backends, phases))
    before = Counter((e.frontend, e.backend) for e in entries if e.timestamp < START + 300)
    after = Counter((e.frontend, e.backend) for e in _after(entries, 300))
    for key, factor in ((("fe_partner", "be_api"), 0.4), (("fe_partner", "be_feed"), 0.4), (("fe_web", "be_api"), 1)):
        assert after[key] / before[key] == pytest.approx(factor, rel=0.12), key


def test_traffic_moves_from_one_backend_to_another() -> None:
    backends = [{"name": n, "frontend": "fe", "rps": 10, "servers": [f"{n}1"], "latency": {"p50_ms": 30, "p95_ms": 90}}
                for n in ("be_old", "be_new")]
    phases = [{"start": "5m", "backend": "be_old", "traffic": {"factor": 0.2}},
              {"start": "5m", "backend": "be_new", "traffic": {"factor": 1.8}}]
    entries = _entries(_scenario(backends, phases))
    before = Counter(e.backend for e in entries if e.timestamp < START + 300)
    after = Counter(e.backend for e in _after(entries, 300))
    assert after["be_old"] / before["be_old"] == pytest.approx(0.2, rel=0.2)
    assert after["be_new"] / before["be_new"] == pytest.approx(1.8, rel=0.1)
    assert sum(after.values()) / sum(before.values()) == pytest.approx(1.0, rel=0.1)


@pytest.mark.parametrize("redispatch", [False, True])
def test_retries_phase_logs_the_retry_count_and_the_turnaround_waits(redispatch: bool) -> None:
    phases = [{"start": "5m", "backend": "be_a", "server": "a2",
               "retries": {"rate": 0.5, "count": 2, "redispatch": redispatch}}]
    entries = _entries(_scenario(phases=phases))
    assert not [e for e in entries if e.timestamp < START + 300 and e.retries]
    retried = [e for e in entries if e.retries]
    assert retried and {e.retries for e in retried} == {2} and {e.status_code for e in retried} == {200}
    on_a2 = [e for e in _after(entries, 300) if e.server == "a2" or e.redispatched]
    assert len(retried) / len(on_a2) == pytest.approx(0.5, abs=0.07)
    assert all(e.redispatched is redispatch for e in retried)
    if redispatch:  # logged on the peer it went to; the 1 s wait before it sits in Tw
        assert {e.server for e in retried} == {"a1", "a3"}
        assert all(1000 <= e.time_queue_ms <= 1005 and e.time_connect_ms <= 1 for e in retried)
    else:  # two turn-arounds on a2 itself, in Tc
        assert {e.server for e in retried} == {"a2"}
        assert all(2000 <= e.time_connect_ms <= 2001 and e.time_queue_ms == 0 for e in retried)
    assert min(e.response_time_ms for e in retried) >= (1000 if redispatch else 2000)


def test_a_refusing_server_is_retried_then_redispatched_to_a_peer_that_answers() -> None:
    backend = {"name": "be_pay", "frontend": "fe", "rps": 20, "servers": ["p1", "p2", "p3"], "retries": 3,
               "redispatch": True, "timeout_connect_ms": 4000, "latency": {"p50_ms": 40, "p95_ms": 120}}
    phases = [{"start": "5m", "backend": "be_pay", "server": "p2", "refuse": {"rate": 1.0}}]
    entries = _after(_entries(_scenario([backend], phases)), 300)
    retried = [e for e in entries if e.retries]
    assert retried and all(e.retries == 3 and e.redispatched and e.server in ("p1", "p3") for e in retried)
    assert all(e.status_code == 200 and e.termination_state == "----" for e in retried)
    assert all(2000 <= e.time_queue_ms <= 2005 for e in retried)  # two 1 s turn-arounds on p2, then a peer
    assert len(retried) / len(entries) == pytest.approx(1 / 3, abs=0.04)
    assert not [e for e in entries if e.server == "p2"]


def test_a_server_refusing_without_redispatch_ends_in_503_sc_after_three_retries() -> None:
    phases = [{"start": "5m", "backend": "be_a", "server": "a1", "refuse": {"rate": 1.0}}]
    entries = _after(_entries(_scenario(phases=phases)), 300)
    failed = [e for e in entries if e.server == "a1"]
    assert failed and all((e.status_code, e.termination_state, e.retries, e.redispatched) == (503, "SC--", 3, False)
                          for e in failed)
    assert all(e.time_connect_ms == e.time_response_ms == -1 and e.response_time_ms >= 3000 for e in failed)


def test_a_partly_refusing_server_succeeds_after_some_retries() -> None:
    phases = [{"start": "5m", "backend": "be_a", "server": "a3", "refuse": {"rate": 0.5}}]
    entries = _after(_entries(_scenario(phases=phases)), 300)
    a3 = [e for e in entries if e.server == "a3"]
    counts = Counter(e.retries for e in a3)
    assert counts[0] / len(a3) == pytest.approx(0.5, abs=0.07) and counts[1] and counts[2]
    assert all(e.time_connect_ms >= 1000 * e.retries for e in a3 if e.status_code == 200)
    assert {e.status_code for e in a3 if e.retries == 3} <= {200, 503}


@pytest.mark.parametrize("state, status, ta_at_least", [("cD", 200, 30000), ("CD", 200, 0), ("cL", 200, 30000),
                                                         ("CH", -1, 0)])
def test_client_aborts_after_the_server_was_reached(state: str, status: int, ta_at_least: int) -> None:
    phases = [{"start": "5m", "backend": "be_a", "client_abort": {"rate": 0.3, "state": state}}]
    entries = _entries(_scenario(phases=phases))
    aborted = [e for e in entries if e.termination_state == f"{state}--"]
    assert len(aborted) / len(_after(entries, 300)) == pytest.approx(0.3, abs=0.04)
    assert all(e.timestamp >= START + 300 and e.status_code == status for e in aborted)
    assert all(e.response_time_ms >= ta_at_least and e.server.startswith("a") for e in aborted)
    normal = [e.time_response_ms for e in _after(entries, 300) if e.termination_state == "----"]
    if state == "CH":
        assert all(e.time_response_ms == -1 and e.bytes_read == 0 for e in aborted)
    else:  # the server answered as usual: Tr stays normal while Ta waited for the client
        assert statistics.median(e.time_response_ms for e in aborted) == pytest.approx(
            statistics.median(normal), rel=0.25)


@pytest.mark.parametrize("state, status, wait", [("cR", 408, 10000), ("CR", 400, None)])
def test_client_aborts_before_a_complete_request_reach_no_backend(state: str, status: int, wait: int | None) -> None:
    phases = [{"start": "5m", "backend": "be_a", "client_abort": {"rate": 0.2, "state": state}}]
    generated = generate(_scenario(phases=phases), end=END)
    assert any(line.endswith('"<BADREQ>"') for line in generated.lines())
    aborted = [e for e in _entries(_scenario(phases=phases)) if e.termination_state == f"{state}--"]
    assert aborted and all((e.backend, e.server, e.status_code) == ("fe", "<NOSRV>", status) for e in aborted)
    assert all(e.time_request_ms == e.time_queue_ms == e.time_connect_ms == e.time_response_ms == -1 for e in aborted)
    if wait is not None:
        assert {e.response_time_ms for e in aborted} == {wait}


@pytest.mark.parametrize("deny, backend, status, term", [
    ({"rate": 0.4, "status": 429}, "be_a", 429, "PR--"),
    ({"rate": 0.4, "where": "frontend"}, "fe", 403, "PR--"),
    ({"rate": 0.4, "state": "PT--", "tarpit_ms": 5000}, "be_a", 500, "PT--"),
])
def test_proxy_denials_reach_no_server(deny: dict[str, Any], backend: str, status: int, term: str) -> None:
    phases = [{"start": "5m", "backend": "be_a", "deny": deny}]
    entries = _entries(_scenario(phases=phases))
    denied = [e for e in entries if e.termination_state == term]
    assert len(denied) / len(_after(entries, 300)) == pytest.approx(0.4, abs=0.04)
    assert all((e.backend, e.server, e.status_code) == (backend, "<NOSRV>", status) for e in denied)
    assert all(e.time_connect_ms == e.time_response_ms == -1 for e in denied)
    if term == "PT--":
        assert all(e.time_queue_ms == 5000 and e.response_time_ms >= 5000 for e in denied)
    else:
        assert all(e.time_queue_ms == -1 and e.response_time_ms == e.time_request_ms for e in denied)


def test_server_timeouts_log_sh_504_with_no_response_time() -> None:
    backend = {"name": "be_a", "frontend": "fe", "rps": 10, "servers": ["a1"], "timeout_server_ms": 15000,
               "latency": {"p50_ms": 30, "p95_ms": 90}}
    phases = [{"start": "5m", "backend": "be_a", "errors": {"rate": 0.2, "status": [504]}}]
    timeouts = [e for e in _entries(_scenario([backend], phases)) if e.status_code == 504]
    assert timeouts and {e.termination_state for e in timeouts} == {"sH--"}
    assert all(e.time_response_ms == -1 and 15000 <= e.response_time_ms <= 15010 for e in timeouts)


def test_mixed_lines_carry_a_syslog_header_or_none_and_parse_alike() -> None:
    scenario = _scenario()
    lines = generate(scenario, end=END).lines("mixed")
    headed = sum(line.startswith("<134>") for line in lines)
    assert 0.4 < headed / len(lines) < 0.6
    raw = [haproxy.parse_line(line) for line in generate(scenario, end=END).lines("raw")]
    assert [haproxy.parse_line(line) for line in lines] == raw
    assert generate(scenario, end=END).lines("mixed") == lines


def test_mixed_transport_sends_a_quarter_over_udp_each_with_its_header() -> None:
    generated = generate(_scenario(), end=END)
    mixed, syslog = generated.lines("mixed"), generated.lines("syslog")
    http, udp = split_mixed(mixed, syslog, seed=11)
    assert len(http) + len(udp) == len(mixed) and 0.22 < len(udp) / len(mixed) < 0.28
    assert all(line.startswith("<134>") for line in udp)
    assert 0.4 < sum(line.startswith("<134>") for line in http) / len(http) < 0.6
    assert sorted(haproxy.parse_line(line) for line in http + udp) == sorted(
        haproxy.parse_line(line) for line in generated.lines("raw"))
    assert split_mixed(mixed, syslog, seed=11) == (http, udp)


@pytest.mark.parametrize("change, message", [
    ({"frontend": None}, "either frontend or frontends"),
    ({"frontends": {"fe_b": 1.0}}, "either frontend or frontends"),
    ({"pattern": {"kind": "bursts", "every": "1m", "length": "2m"}}, "shorter than every"),
    ({"pattern": {"kind": "waves"}}, "kind"),
])
def test_invalid_backends_are_refused(change: dict[str, Any], message: str) -> None:
    backend = {"name": "be_a", "frontend": "fe", "rps": 1, "servers": ["a1"], "latency": {"p50_ms": 1, "p95_ms": 2}}
    with pytest.raises(ValidationError, match=message):
        _scenario([{**backend, **change}])


@pytest.mark.parametrize("phase, expect, message", [
    ({"start": "1m", "backend": "be_a", "refuse": {"rate": 1}}, {}, "refuse needs a backend and a server"),
    ({"start": "1m", "backend": "be_a", "retries": {"rate": 0.1, "count": 4}}, {}, "less than or equal to 3"),
    ({"start": "1m", "backend": "be_a", "client_abort": {"rate": 0.1, "state": "XX"}}, {}, "state"),
    ({"start": "1m"}, {"server": "zz9"}, "in no backend's pool"),
    ({"start": "1m", "frontend": "fe_zz", "traffic": {"factor": 0}}, {}, "routes to no such backend"),
    ({"start": "1m"}, {"backends": ["be_zz"]}, "not a baseline backend"),
    ({"start": "1m"}, {"in_title": ["be_zz"]}, "no backend, server or frontend"),
    ({"start": "1m"}, {"keywords": [["deploy"]], "forbidden": ["Deploy"]}, "both expected and forbidden"),
])
def test_invalid_phases_and_expectations_are_refused(phase: dict[str, Any], expect: dict[str, Any],
                                                     message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _scenario(phases=[phase], expect={"overall_severity": "ok", **expect})

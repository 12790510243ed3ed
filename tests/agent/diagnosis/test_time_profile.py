"""The incident's time profile governs latency severity; failed requests are not latency; a
backend is also judged against its own baseline (redteam2 REPORT §4 items 3, 4, 7)."""

from __future__ import annotations

from agent_service.diagnosis.latency import backend_latency
from agent_service.diagnosis.timeline import BAD, GOOD, UNCLEAR, timeline

from tests.agent.diagnosis.builders import answer, case, scope, stats


def _latency(now: dict, before: dict, **kw) -> list:
    raw = answer(scope("site", "", now, before), scope("backend", "be_x", now, before, **kw))
    c = case(raw)
    return backend_latency(c, c.data.find("backend", "be_x"))


def test_noise_around_the_line_neither_flaps_nor_recovers() -> None:
    steady = timeline([BAD, UNCLEAR, BAD, UNCLEAR, UNCLEAR, BAD, UNCLEAR, BAD, UNCLEAR, UNCLEAR])
    assert not steady.flapping and not steady.recovered and steady.ongoing and steady.onset == 0
    flaps = timeline([GOOD, BAD, GOOD, GOOD, BAD, GOOD, GOOD, BAD, GOOD, BAD])
    assert flaps.flapping and flaps.episodes == 4  # the mirror: real alternation still flaps
    over = timeline([BAD, BAD, GOOD, GOOD, GOOD])
    assert over.recovered
    assert not timeline([BAD, BAD, UNCLEAR, GOOD, GOOD]).recovered  # needs the last minutes clearly good


def test_a_recovered_latency_incident_is_capped_and_says_when_it_ended() -> None:
    slow, calm = [1500.0] * 4, [45.0] * 6
    now = stats(6000, ta=(300, 1500, 2500), tr=(300, 1500, 2500))
    hs = _latency(now, stats(36000), now_cols={"ta_mean_ms": slow + calm, "tr_mean_ms": slow + calm})
    assert hs and hs[0].severity == "warning"
    assert hs[0].headline.startswith("recovered at 13:54 UTC") and hs[0].sentence.startswith("Recovered at 13:54 UTC")
    assert "ended at 13:54 UTC" in hs[0].timing.words()
    going = _latency(now, stats(36000), now_cols={"ta_mean_ms": calm + slow, "tr_mean_ms": calm + slow})
    assert going and going[0].severity == "critical" and not going[0].headline.startswith("recovered")


def test_the_ta_of_failed_requests_is_no_latency_verdict() -> None:
    failed = stats(10000, e5=300, codes={503: 300}, terms={"SC--": 300}, retried=300, retries=900,
                   ta=(50, 200, 3000), tr=(45, 180, 300))
    hs = _latency(failed, stats(60000))
    assert [(h.mode, h.severity) for h in hs] == [("failed_time", "ok")]
    answered = stats(10000, retried=3000, retries=3000, ta=(50, 1000, 1010), tr=(20, 30, 60), tc=300)
    hs = _latency(answered, stats(60000))  # the mirror: retried AND answered, users do wait
    assert hs[0].mode == "retry_wait" and hs[0].severity == "critical"


def test_a_backend_three_times_slower_than_its_own_baseline_is_a_warning() -> None:
    now, before = stats(12000, ta=(150, 470, 800), tr=(140, 460, 790)), stats(72000, ta=(50, 160, 300))
    cols = {"ta_mean_ms": [180.0] * 10, "tr_mean_ms": [170.0] * 10}
    hs = _latency(now, before, now_cols=cols)
    assert [(h.mode, h.severity) for h in hs] == [("baseline_rise", "warning")]
    calm = {"ta_mean_ms": [60.0] * 10, "tr_mean_ms": [55.0] * 10}
    assert _latency(stats(12000, ta=(50, 170, 310)), before, now_cols=calm) == []  # the mirror: as usual
    few = stats(150, ta=(150, 470, 800))  # a p95 over a handful of requests never decides
    assert _latency(few, stats(900, ta=(50, 160, 300)), now_cols=cols) == []


def test_server_timeouts_flag_latency_as_a_warning_not_a_critical_by_themselves() -> None:
    now = stats(5000, e5=600, codes={504: 600}, terms={"sH--": 600}, ta=(60, 8000, 8000), tr=(50, 220, 350))
    hs = _latency(now, stats(30000))
    assert [(h.mode, h.severity) for h in hs] == [("server_timeout", "warning")]

"""The catalogue on hand-built breakdowns: each failure mode of issue 12's list is told apart
from its look-alikes, on the scope (and server) it applies to."""

from __future__ import annotations

from agent_service.diagnosis.diagnose import diagnose
from agent_service.diagnosis.story import tell

from agent_service.models import SPECIALISTS, Finding

from tests.agent.diagnosis.builders import answer, case, scope, stats

DONE = [Finding(specialist=name) for name in SPECIALISTS]


def _pool(backend: str, servers: dict[str, dict], before: dict[str, dict]) -> list[dict]:
    return [scope("server", f"{backend}/{name}", s, before[name]) for name, s in servers.items()]


def _site(now: dict, before: dict, **kw) -> dict:
    return scope("site", "", now, before, **kw)


def test_one_slow_server_is_named_and_not_called_a_regression() -> None:
    fast, slow = stats(2000, ta=(40, 90, 150)), stats(1000, ta=(900, 2100, 2600))
    raw = answer(
        _site(stats(5000, ta=(50, 1500, 2400)), stats(30000)),
        scope("backend", "be_cart", stats(5000, ta=(50, 1500, 2400)), stats(30000)),
        *_pool("be_cart", {"c1": fast, "c2": fast, "c3": slow}, {"c1": stats(10000), "c2": stats(10000), "c3": stats(10000)}),
    )
    d = diagnose(case(raw))
    top = d.problems[0]
    assert (top.mode, top.server, top.severity) == ("server_slow", "c3", "critical")
    story = tell(d, DONE, None)
    assert "c3" in story.title and "be_cart" in story.title
    assert "roll back" not in " ".join(story.recommendations).lower()
    assert "c3" in story.recommendations[0]


def test_client_aborts_with_normal_server_time_are_no_server_latency_verdict() -> None:
    now = stats(4000, ta=(60, 400, 30000), tr=(40, 110, 180), terms={"cD--": 300})
    raw = answer(_site(now, stats(24000)), scope("backend", "be_mobile_api", now, stats(24000)))
    d = diagnose(case(raw))
    assert d.severity("latency") == "ok" and d.severity("traffic") == "ok" and d.problems == []
    assert {h.mode for h in d.hypotheses} == {"client_time", "clients_going_away"}  # told apart, as notes
    story = tell(d, DONE, None)
    assert "cD--" in story.diagnosis and "client" in story.recommendations[0]
    assert "roll back" not in " ".join(story.recommendations).lower()


def test_retries_with_few_errors_name_the_refusing_server() -> None:
    now = stats(6000, e5=12, codes={503: 12}, retried=720, redispatches=700, retries=2100,
                ta=(45, 1200, 3100), tr=(40, 110, 190), tc=350)
    servers = {"r1": stats(3000, retried=360), "r2": stats(2990, retried=360),
               "r3": stats(10, e5=12, codes={503: 12}, terms={"SC--": 12})}
    before = {k: stats(10000) for k in servers}
    raw = answer(_site(now, stats(30000)), scope("backend", "be_pay", now, stats(30000)), *_pool("be_pay", servers, before))
    d = diagnose(case(raw))
    modes = {(h.mode, h.server) for h in d.problems}
    assert ("server_refusing", "r3") in modes
    assert d.severity("latency") != "ok"  # users do wait ...
    story = tell(d, DONE, None)
    assert "r3" in story.title  # ... but the story starts at the refused connections
    text = (story.diagnosis + " ".join(story.recommendations)).lower()
    assert "deploy" not in text and "roll back" not in text


def test_backend_fed_in_bursts_is_not_gone_between_bursts() -> None:
    burst = [0.0] * 9 + [400.0]
    before_minutes = burst * 6
    now_minutes = [0.0] * 10  # the window falls between two bursts ... almost
    now_minutes[0] = 400.0
    raw = answer(
        _site(stats(400), stats(2400), now_minutes=now_minutes, before_minutes=before_minutes),
        scope("backend", "be_batch", stats(400), stats(2400), now_minutes=now_minutes, before_minutes=before_minutes),
    )
    assert diagnose(case(raw)).severity("traffic") == "ok"


def test_a_frontend_losing_most_of_its_traffic_is_graded_while_the_site_barely_moves() -> None:
    site_now = [800.0] * 7 + [680.0] * 3
    fe_now = [200.0] * 7 + [80.0] * 3
    raw = answer(
        _site(stats(int(sum(site_now))), stats(48000), now_minutes=site_now, before_minutes=[800.0] * 60),
        scope("frontend", "fe_app", stats(int(sum(fe_now))), stats(12000), now_minutes=fe_now,
              before_minutes=[200.0] * 60, routes=("be_app",)),
    )
    d = diagnose(case(raw))
    drops = [h for h in d.problems if h.mode == "traffic_drop"]
    assert [(h.scope.name, h.severity) for h in drops] == [("fe_app", "warning")]


def test_two_independent_problems_are_each_named_with_their_own() -> None:
    slow = stats(3000, ta=(700, 2400, 3900), tr=(690, 2300, 3800))
    failing = stats(3000, e5=600, codes={500: 600})
    raw = answer(
        _site(stats(6000), stats(36000)),
        scope("backend", "be_a", slow, stats(18000)), scope("backend", "be_b", failing, stats(18000)),
    )
    story = tell(diagnose(case(raw)), DONE, None)
    assert "be_a" in story.title and "be_b" in story.title
    assert story.title.index("be_a") != story.title.index("be_b")


def test_a_tail_quantile_over_few_requests_is_marked_as_such() -> None:
    slow = stats(60, ta=(700, 2400, 3900), tr=(690, 2300, 3800))
    raw = answer(_site(slow, stats(360)), scope("backend", "be_tiny", slow, stats(360)))
    [h] = diagnose(case(raw)).problems
    assert "few requests: the p99 is one or two of them" in h.sentence
    big = stats(6000, ta=(700, 2400, 3900), tr=(690, 2300, 3800))
    raw = answer(_site(big, stats(36000)), scope("backend", "be_big", big, stats(36000)))
    assert "few requests" not in diagnose(case(raw)).problems[0].sentence


def test_a_frontend_tarpit_is_the_proxys_own_answer_not_a_backend_without_servers() -> None:
    """A frontend's `http-request tarpit` logs the frontend as the backend, `<NOSRV>`, PT--, a 500
    after the hold in Tw: HAProxy's rule, no server down, no queue, no slow server."""
    tarpit = stats(2000, e5=2000, codes={500: 2000}, terms={"PT--": 2000}, ta=(8000, 8000, 8000), queued=2000,
                   tw=8000)
    tarpit["tr"] = {"count": 0}
    raw = answer(
        _site(stats(12000, e5=2000, codes={500: 2000}), stats(60000)),
        scope("frontend", "www-edge", stats(12000, e5=2000, codes={500: 2000}), stats(60000),
              routes=("catalog", "www-edge")),
        scope("backend", "www-edge", tarpit, stats(0)),
        scope("server", "www-edge/<NOSRV>", tarpit, stats(0)),
        scope("backend", "catalog", stats(10000), stats(60000)),
        scope("server", "catalog/c1", stats(5000), stats(30000)), scope("server", "catalog/c2", stats(5000), stats(30000)),
    )
    d = diagnose(case(raw))
    [problem] = d.problems
    assert problem.mode == "proxy_denial" and problem.severity == "warning"
    assert "HAProxy itself tarpits" in problem.sentence and "frontend www-edge" in problem.sentence
    assert "http-request tarpit" in problem.recommendation
    assert not any(h.mode in ("no_server", "overloaded_queueing", "slow_upstream") for h in d.hypotheses)
    assert any(h.mode == "proxy_time" for h in d.of("latency"))


def test_no_server_needs_haproxys_sc_not_any_nosrv_5xx() -> None:
    down = stats(3000, e5=3000, codes={503: 3000}, terms={"SC--": 3000})
    raw = answer(_site(down, stats(18000)), scope("backend", "be_x", down, stats(18000)),
                 scope("server", "be_x/<NOSRV>", down, stats(0)), scope("server", "be_x/x1", stats(0), stats(18000)))
    assert [h.mode for h in diagnose(case(raw)).problems] == ["no_server"]


def test_clients_that_never_finish_their_request_are_not_slow_servers() -> None:
    """`cR--` 408 after `timeout http-request`, `<BADREQ>` on the frontend: client time."""
    slow = stats(1000, e4=1000, codes={408: 1000}, terms={"cR--": 1000}, ta=(10000, 10000, 10000))
    slow["tr"] = {"count": 0}
    raw = answer(_site(stats(9000, e4=1000, codes={408: 1000}), stats(60000)),
                 scope("frontend", "fe-www", stats(9000), stats(60000), routes=("fe-www", "be_app")),
                 scope("backend", "fe-www", slow, stats(0)), scope("server", "fe-www/<NOSRV>", slow, stats(0)),
                 scope("backend", "be_app", stats(8000), stats(60000)))
    d = diagnose(case(raw))
    assert d.severity("latency") == "ok"
    assert [h.mode for h in d.of("latency")] == ["client_time"]
    [h] = [h for h in d.problems if h.mode == "client_errors_4xx"]
    assert "timeout http-request" in h.recommendation


def test_a_site_drop_carried_by_one_frontend_is_told_on_that_frontend() -> None:
    """The site loses half, one frontend of two loses it all: the frontend is the finding."""
    site_now = [1000.0] * 4 + [500.0] * 6
    fe_now = [800.0] * 4 + [300.0] * 6
    raw = answer(
        _site(stats(int(sum(site_now))), stats(60000), now_minutes=site_now, before_minutes=[1000.0] * 60),
        scope("frontend", "fe-us", stats(int(sum(fe_now))), stats(48000), now_minutes=fe_now,
              before_minutes=[800.0] * 60, routes=("be_us",)),
        scope("frontend", "fe-internal", stats(2000), stats(12000), routes=("be_int",)),
    )
    drops = [h for h in diagnose(case(raw)).problems if h.mode == "traffic_drop"]
    assert [(h.scope.kind, h.scope.name, h.severity) for h in drops] == [("frontend", "fe-us", "warning")]


def test_slow_by_nature_servers_no_slower_than_before_leave_the_rise_to_the_queue() -> None:
    """A PDF renderer's servers take 1.7 s at p95, as in their baseline; users now wait 7 s
    because requests queue: queueing, not "every server is slow"."""
    now = stats(3000, ta=(3000, 7100, 9000), tr=(1500, 1700, 2000), queued=1200, tw=4000)
    before = stats(18000, ta=(1500, 1720, 2000), tr=(1500, 1700, 2000))
    raw = answer(_site(now, before), scope("backend", "pdf", now, before))
    latency = diagnose(case(raw)).of("latency")
    assert [h.mode for h in latency] == ["overloaded_queueing"]
    assert "its servers answer in time" in latency[0].sentence


def test_a_release_that_slows_and_fails_a_backend_says_both_in_the_title() -> None:
    now = stats(3000, e5=270, codes={500: 270}, ta=(300, 900, 1500), tr=(290, 880, 1450))
    before = stats(18000, ta=(60, 150, 260), tr=(55, 140, 250))
    site_now = [300.0] * 10
    raw = answer(_site(now, before),
                 scope("backend", "orders", now, before, now_minutes=site_now,
                       now_cols={"errors_5xx": [0, 0, 0, 0, 54, 54, 54, 54, 54, 0],
                                 "ta_mean_ms": [60, 60, 60, 60, 400, 400, 400, 400, 400, 400],
                                 "tr_mean_ms": [55, 55, 55, 55, 390, 390, 390, 390, 390, 390]}))
    d = diagnose(case(raw))
    assert {h.specialist for h in d.problems if h.mode == "regression"} == {"latency", "errors"}
    assert "orders — regression: slower and failing" in tell(d, DONE, None).title

"""Server outliers judged against their peers: a server is named when its own 5xx (or refusal)
rate stands out from its peers' pooled rate — whatever its share of the traffic, also when the
backend as a whole stays under the thresholds — several when several do, nobody when the pool
fails alike (and then nothing is drained). "Few 5xx" only when they are few; the regression's
title names a change only when one is recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from agent_service.diagnosis.changes import Change
from agent_service.diagnosis.diagnose import diagnose
from agent_service.diagnosis.outliers import Count, outliers
from agent_service.remediation.models import DrainServer
from agent_service.remediation.propose import propose
from tests.agent.diagnosis.builders import END, WINDOW, answer, case, scope, stats


def _backend(name: str, servers: dict[str, dict], *, before: dict | None = None, **kw: dict) -> dict:
    """A backend (and the site) summing its servers' counts, each server with a clean baseline."""
    total = sum(s["requests"] for s in servers.values())
    e5 = sum(s["errors_5xx"] for s in servers.values())
    codes: dict[int, int] = {}
    terms: dict[str, int] = {}
    for s in servers.values():
        for c, n in s["status_codes"].items():
            if c != "200":
                codes[int(c)] = codes.get(int(c), 0) + n
        for t, n in s["terminations"].items():
            if t != "----":
                terms[t] = terms.get(t, 0) + n
    retried = sum(s["retried_requests"] for s in servers.values())
    now = stats(total, e5=e5, codes=codes, terms=terms, retried=retried,
                redispatches=sum(s["redispatches"] for s in servers.values()), **kw)
    base = before or stats(6 * total)
    return answer(scope("site", "", now, base), scope("backend", name, now, base),
                  *[scope("server", f"{name}/{n}", s, stats(6 * s["requests"] or 600)) for n, s in servers.items()])


def _named(d) -> list[tuple[str, str | None]]:
    return [(h.mode, h.server) for h in d.of("errors") if h.severity != "ok"]


def test_the_heavy_weight_server_failing_alone_is_named_by_its_rate_not_its_share() -> None:
    # 72% of the traffic and every 5xx: its share of the errors is only 1.4× its share of requests
    raw = _backend("be_co", {"big": stats(5400, e5=1600, codes={500: 1600}),
                             "s1": stats(1050), "s2": stats(1050, e5=2, codes={500: 2})})
    d = diagnose(case(raw))
    assert _named(d) == [("server_errors", "big")]
    (h,) = [h for h in d.problems if h.server == "big"]
    assert h.severity == "critical" and h.numbers["peers_error_rate_5xx_pct"] < 0.2
    assert not any("not one bad server" in a for a in h.against)
    assert [(p.backend, p.server) for p in propose(d) if isinstance(p, DrainServer)] == [("be_co", "big")]


def test_servers_failing_alike_name_nobody_whatever_their_weights() -> None:
    # the mirror: the heavy server fails at its peers' rate: the backend's errors, no server's
    raw = _backend("be_co", {"big": stats(5400, e5=1100, codes={500: 1100}),
                             "s1": stats(1050, e5=210, codes={500: 210}), "s2": stats(1050, e5=220, codes={500: 220})})
    d = diagnose(case(raw))
    assert all(h.server is None for h in d.of("errors"))
    assert not [p for p in propose(d) if isinstance(p, DrainServer)]


def _refused(n: int, sc: int) -> dict:
    return stats(n, e5=sc, codes={503: sc} if sc else None, terms={"SC--": sc} if sc else None,
                 retried=sc, retries=2 * sc)


def test_two_refusing_servers_of_six_are_both_named_and_drained() -> None:
    servers = {f"n{i}": _refused(1600, 1600 if i in (2, 5) else 0) for i in range(1, 7)}
    d = diagnose(case(_backend("be_orders", servers)))
    assert sorted(_named(d)) == [("server_refusing", "n2"), ("server_refusing", "n5")]
    assert not any(h.mode == "network_connect" for h in d.hypotheses)  # not "every server"
    assert all("n2" in h.headline and "n5" in h.headline for h in d.problems if h.server)
    drains = sorted(p.server for p in propose(d) if isinstance(p, DrainServer))
    assert drains == ["n2", "n5"]


def test_most_of_the_pool_refusing_names_no_server_and_drains_none() -> None:
    # the mirror: four of six refuse — the pool (or the network in front of it), never a drain of the most
    servers = {f"n{i}": _refused(1600, 0 if i in (2, 5) else 1600) for i in range(1, 7)}
    d = diagnose(case(_backend("be_orders", servers)))
    assert all(h.server is None for h in d.of("errors"))
    assert any(h.mode == "network_connect" for h in d.problems)
    assert not [p for p in propose(d) if isinstance(p, DrainServer)]


def _retrying(sc: dict[str, int]) -> dict:
    # a redispatch storm: many retried requests, a few SC-- per server, few 5xx
    servers = {n: stats(1500, e5=k, codes={503: k} if k else None, terms={"SC--": k} if k else None,
                        retried=300, redispatches=290, retries=600) for n, k in sc.items()}
    return _backend("be_stock", servers, before=stats(36000))


def test_refusals_alike_on_every_server_name_none_of_them() -> None:
    d = diagnose(case(_retrying({"k1": 27, "k2": 24, "k3": 29, "k4": 22, "k5": 25, "k6": 26})))
    assert _named(d) == [("retry_storm", None)]
    assert not [p for p in propose(d) if isinstance(p, DrainServer)]


def test_one_server_refusing_far_more_than_its_peers_is_named() -> None:
    # the mirror: the same storm with one server's refusals standing out
    d = diagnose(case(_retrying({"k1": 3, "k2": 2, "k3": 140, "k4": 4, "k5": 1, "k6": 2})))
    assert ("server_refusing", "k3") in _named(d)
    assert [p.server for p in propose(d) if isinstance(p, DrainServer)] == ["k3"]


def test_a_bad_server_warns_although_its_backend_is_under_the_5xx_threshold() -> None:
    # the backend at ~2.8% (under the 5% warning), one server at 11%, its peers at 0.3%
    servers = {"c1": stats(2700, e5=8, codes={502: 8}, terms={"SH--": 8}),
               "c2": stats(2700, e5=8, codes={502: 8}, terms={"SH--": 8}),
               "c3": stats(2600, e5=290, codes={502: 150, 503: 140}, terms={"SH--": 150, "SC--": 140}),
               "c4": stats(2700, e5=9, codes={502: 9}, terms={"SH--": 9})}
    d = diagnose(case(_backend("be_cart", servers)))
    (h,) = [h for h in d.problems if h.specialist == "errors"]
    assert (h.mode, h.server, h.severity) == ("server_errors", "c3", "warning")
    assert "11." in h.sentence and "0.3%" in h.sentence


def test_the_same_low_rate_spread_over_the_pool_stays_ok() -> None:
    servers = {f"c{i}": stats(2700, e5=75, codes={502: 75}, terms={"SH--": 75}) for i in range(1, 5)}
    d = diagnose(case(_backend("be_cart", servers)))
    assert d.severity("errors") == "ok"


def _storm_with_errors(e5_each: int) -> dict:
    servers = {n: stats(2000, e5=e5_each, codes={500: e5_each}, retried=300, retries=300) for n in ("a", "b", "c")}
    return _backend("be_app", servers, before=stats(36000))


def test_many_5xx_beside_retries_are_not_called_hidden_by_the_retries() -> None:
    d = diagnose(case(_storm_with_errors(500)))  # 25% 5xx
    storms = [h for h in d.hypotheses if h.mode == "retry_storm"]
    assert storms and not any("few 5xx" in a for h in storms for a in h.against)
    assert all("while only" not in h.sentence for h in storms)


def test_few_5xx_beside_retries_are_hidden_by_the_retries() -> None:
    d = diagnose(case(_storm_with_errors(4)))  # 0.2% 5xx
    (h,) = [h for h in d.hypotheses if h.mode == "retry_storm"]
    assert any("few 5xx" in a for a in h.against) and "while only" in h.sentence


ONSET = END - timedelta(minutes=WINDOW) + timedelta(minutes=4)  # 13:54 UTC


def _regression() -> dict:
    cols = {"errors_5xx": [0.0] * 4 + [60.0] * 6}
    now, before = stats(3000, e5=360, codes={500: 360}), stats(18000, e5=9, codes={500: 9})
    server_now, server_before = stats(1500, e5=180, codes={500: 180}), stats(9000, e5=4, codes={500: 4})
    return answer(scope("site", "", now, before, now_cols=cols), scope("backend", "be_api", now, before, now_cols=cols),
                  scope("server", "be_api/a1", server_now, server_before, now_cols=cols),
                  scope("server", "be_api/a2", server_now, server_before, now_cols=cols))


def _regression_headline(changes: tuple[Change, ...] | None) -> str:
    d = diagnose(replace(case(_regression()), changes=changes))
    (h,) = [h for h in d.problems if h.mode == "regression"]
    return h.headline


def test_a_regression_without_a_recorded_change_is_titled_by_its_onset() -> None:
    assert _regression_headline(()) == "errors since 13:54 UTC"
    assert _regression_headline(None) == "errors since 13:54 UTC"  # changes not read: no change is known
    other = (Change("x", "deploy", ONSET - timedelta(minutes=3), backend="be_other", version="v1"),)
    assert _regression_headline(other) == "errors since 13:54 UTC"


def test_a_regression_after_a_recorded_change_is_titled_by_the_change() -> None:
    dep = (Change("dep", "deploy", ONSET - timedelta(minutes=3), backend="be_api", version="v2"),)
    assert _regression_headline(dep) == "errors since a change"


def test_outliers_need_a_margin_over_a_failing_pool_not_just_significance() -> None:
    # 30% against 22%: significant on these counts, but a failing pool with one worse member
    pool = [Count("a", 3000, 10000), Count("b", 2200, 10000), Count("c", 2200, 10000), Count("d", 2200, 10000)]
    assert outliers(pool, min_bad=5, min_rate=0.05, min_share=0.0) == []
    pool[0] = Count("a", 6000, 10000)  # 60% against 22%: it stands out
    assert [o.count.name for o in outliers(pool, min_bad=5, min_rate=0.05, min_share=0.0)] == ["a"]


def test_outliers_are_bounded_and_never_half_the_pool() -> None:
    bad = [Count(f"b{i}", 500, 500) for i in range(5)]
    clean = [Count(f"c{i}", 0, 500) for i in range(6)]
    assert len(outliers(bad + clean, min_bad=5, min_rate=0.05, min_share=0.6)) == 0  # 5 of 11: beyond 3
    assert [o.count.name for o in outliers(bad[:3] + clean, min_bad=5, min_rate=0.05, min_share=0.6)] == ["b0", "b1", "b2"]
    assert outliers(bad[:2] + clean[:2], min_bad=5, min_rate=0.05, min_share=0.6) != []  # 2 of 4: half
    assert outliers(bad[:3] + clean[:2], min_bad=5, min_rate=0.05, min_share=0.6) == []  # 3 of 5: most

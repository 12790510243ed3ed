"""The rules engine's proposals from the ranked hypotheses: the one bad server among healthy
peers is drained (never the last one, never when the whole backend is bad); a regression right
after a deploy is rolled back to the version before it; a backend queueing on every server is
scaled out; a critical report with nothing actionable is escalated."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from agent_service.diagnosis.changes import Change
from agent_service.diagnosis.diagnose import Diagnosis, diagnose
from agent_service.remediation.models import DrainServer, Escalate, Rollback, ScaleOut
from agent_service.remediation.propose import propose
from tests.agent.diagnosis.builders import END, WINDOW, answer, case, scope, stats

ONSET = END - timedelta(minutes=WINDOW) + timedelta(minutes=4)


def _pool(backend: str, servers: dict[str, dict]) -> list[dict]:
    return [scope("server", f"{backend}/{name}", s, stats(10000)) for name, s in servers.items()]


def _refusing(servers: dict[str, dict]) -> dict:
    total = sum(s["requests"] for s in servers.values())
    e5 = sum(s["errors_5xx"] for s in servers.values())
    now = stats(total, e5=e5, codes={503: e5} if e5 else None, terms={"SC--": e5} if e5 else None)
    return answer(scope("site", "", now, stats(30000)), scope("backend", "be_pay", now, stats(30000)),
                  *_pool("be_pay", servers))


def test_the_one_refusing_server_among_healthy_peers_is_drained() -> None:
    raw = _refusing({"r1": stats(3000), "r2": stats(2990), "r3": stats(600, e5=500, codes={503: 500}, terms={"SC--": 500})})
    made = propose(diagnose(case(raw)))
    drains = [p for p in made if isinstance(p, DrainServer)]
    assert [(p.backend, p.server) for p in drains] == [("be_pay", "r3")]
    assert drains[0].undo.command == "set server be_pay/r3 state ready"
    assert drains[0].risk.level == "low" and drains[0].evidence


def test_the_slow_server_is_drained_with_medium_risk_when_one_peer_is_left() -> None:
    fast, slow = stats(2000, ta=(40, 90, 150)), stats(1000, ta=(900, 2100, 2600))
    now = stats(3000, ta=(50, 1500, 2400))
    raw = answer(scope("site", "", now, stats(30000)), scope("backend", "be_cart", now, stats(30000)),
                 *_pool("be_cart", {"c1": fast, "c3": slow}))
    drains = [p for p in propose(diagnose(case(raw))) if isinstance(p, DrainServer)]
    assert [(p.server, p.risk.level) for p in drains] == [("c3", "medium")]


def test_the_last_serving_server_is_never_drained() -> None:
    bad = stats(600, e5=500, codes={503: 500}, terms={"SC--": 500})
    named = diagnose(case(_refusing({"r1": stats(3000), "r2": stats(2990), "r3": bad})))
    assert ("server_refusing", "r3") in {(h.mode, h.server) for h in named.problems}
    # The same verdict on data where r1 and r2 serve nothing: r3 is the only server left.
    alone = Diagnosis(case(_refusing({"r1": stats(0), "r2": stats(0), "r3": bad})), named.hypotheses)
    assert not [p for p in propose(alone) if isinstance(p, DrainServer)]
    assert [p for p in propose(named) if isinstance(p, DrainServer)]


def _regression() -> dict:
    slow, before = stats(3000, ta=(300, 900, 1400)), stats(18000, ta=(40, 120, 200))
    server_now, server_before = stats(1500, ta=(300, 900, 1400)), stats(9000, ta=(40, 120, 200))
    means = {"ta_mean_ms": [50.0] * 4 + [450.0] * 6}
    return answer(scope("site", "", slow, before, now_cols=means), scope("backend", "be_search", slow, before, now_cols=means),
                  scope("server", "be_search/s1", server_now, server_before, now_cols=means),
                  scope("server", "be_search/s2", server_now, server_before, now_cols=means))


def test_a_regression_after_a_deploy_is_rolled_back_to_the_version_before() -> None:
    changes = (
        Change("old", "deploy", ONSET - timedelta(minutes=50), backend="be_search", version="v2.3.0"),
        Change("dep", "deploy", ONSET - timedelta(minutes=3), backend="be_search", version="v2.3.1", by="alice"),
        Change("api", "deploy", ONSET - timedelta(minutes=40), backend="be_api", version="v9.0.0"),
    )
    made = propose(diagnose(replace(case(_regression()), changes=changes)))
    rollbacks = [p for p in made if isinstance(p, Rollback)]
    assert [(p.backend, p.from_version, p.to_version, p.change_id) for p in rollbacks] == [
        ("be_search", "v2.3.1", "v2.3.0", "dep")]
    assert not [p for p in made if isinstance(p, DrainServer)]  # both servers are slow: the backend is


def test_a_deploy_named_by_its_commit_carries_the_commit() -> None:
    changes = (Change("dep", "deploy", ONSET - timedelta(minutes=2), backend="be_search", version="0123abcd4567"),)
    (rollback,) = [p for p in propose(diagnose(replace(case(_regression()), changes=changes))) if isinstance(p, Rollback)]
    assert rollback.commit == "0123abcd4567" and rollback.to_version is None


def test_no_recorded_change_means_no_rollback() -> None:
    made = propose(diagnose(replace(case(_regression()), changes=())))
    assert not [p for p in made if isinstance(p, Rollback)]


def _queueing(queued: dict[str, int]) -> dict:
    cols = {"queued": [q / WINDOW for q in [sum(queued.values())] * WINDOW]}
    total = 600 * len(queued)
    now = stats(total, queued=sum(queued.values()), tw=400)
    servers = {name: stats(600, queued=q, tw=400) for name, q in queued.items()}
    return answer(scope("site", "", now, stats(30000), now_cols=cols),
                  scope("backend", "be_api", now, stats(30000), now_cols=cols), *_pool("be_api", servers))


def test_queueing_on_every_server_is_scaled_out() -> None:
    made = propose(diagnose(case(_queueing({"a1": 200, "a2": 210, "a3": 190, "a4": 200}))))
    assert [(p.backend, p.by) for p in made if isinstance(p, ScaleOut)] == [("be_api", 2)]


def test_queueing_on_some_servers_only_is_not_capacity() -> None:
    made = propose(diagnose(case(_queueing({"a1": 600, "a2": 0}))))
    assert not [p for p in made if isinstance(p, ScaleOut)]


def test_a_critical_backend_with_no_server_at_all_is_escalated_not_drained() -> None:
    now = stats(3000, e5=3000, codes={503: 3000}, terms={"SC--": 3000})
    raw = answer(scope("site", "", now, stats(30000)), scope("backend", "be_x", now, stats(30000)),
                 scope("server", "be_x/<NOSRV>", now, stats(0)))
    d = diagnose(case(raw))
    assert d.problems and d.problems[0].severity == "critical"
    made = propose(d)
    assert [type(p) for p in made] == [Escalate]
    assert "be_x" in made[0].to and made[0].why


def test_a_few_refusals_spread_over_the_pool_single_out_nobody() -> None:
    # Connection retries on every server (a flapping network in front of them): the server with the
    # most SC-- (5 of 14) refuses no more than its peers, so nobody is named and nothing drained.
    def server(sc: int) -> dict:
        return stats(1500, retried=180, redispatches=170, retries=400, terms={"SC--": sc} if sc else None)

    servers = {"l1": server(5), "l2": server(4), "l3": server(3), "l4": server(2)}
    now = stats(6000, retried=720, redispatches=680, retries=1600, terms={"SC--": 14})
    raw = answer(scope("site", "", now, stats(30000)), scope("backend", "be_ledger", now, stats(30000)),
                 *_pool("be_ledger", servers))
    d = diagnose(case(raw))
    assert [(h.mode, h.server) for h in d.of("errors")] == [("retry_storm", None)]
    assert not [p for p in propose(d) if isinstance(p, DrainServer)]

"""grade_saturation on plain facts: no tools, no I/O."""

from __future__ import annotations

from agent_service.rules.grades import ScopeRef
from agent_service.rules.saturation import SaturationFacts, grade_saturation
from tests.agent.rules.thresholds import for_

TH = for_("saturation")  # queueing: at least 5 % of the requests; Redis memory above 80 %; 20 requests


def facts(queued: int, requests: int = 1000, **kw: object) -> SaturationFacts:
    return SaturationFacts(requests=requests, haproxy={"queued_requests": queued}, **kw)  # type: ignore[arg-type]


def test_queueing_warns_from_exactly_the_threshold() -> None:
    assert grade_saturation(facts(49), TH).severity == "ok"
    assert grade_saturation(facts(50), TH).severity == "warning"  # "at least" 5 %


def test_below_min_requests_queueing_is_not_judged() -> None:
    assert grade_saturation(facts(19, requests=19), TH).items == ()
    assert grade_saturation(facts(20, requests=20), TH).severity == "warning"


def test_queue_timeouts_are_critical_only_with_sustained_queueing() -> None:
    states = {"----": 8000, "sQ--": 300}
    grades = grade_saturation(facts(2400, requests=9000, states=states), TH)
    assert grades.severity == "critical" and grades.first("queue_timeouts").numbers == {"queue_timeouts": 300}  # type: ignore[union-attr]
    assert grade_saturation(facts(10, requests=9000, states=states), TH).severity == "ok"


def test_the_backend_that_queues_most_is_named() -> None:
    probed = {"be_static": {"queued_requests": 100.0}, "be_api": {"queued_requests": 2300.0, "max_srv_queue": 60.0},
              "be_idle": {"queued_requests": 0.0}}
    grades = grade_saturation(facts(2400, requests=9000, backend_haproxy=probed), TH)
    backend = [g for g in grades.named("queueing") if g.scope.kind == "backend"]
    assert [g.scope for g in backend] == [ScopeRef.backend("be_api")] and backend[0].numbers["max_srv_queue"] == 60
    nobody = grade_saturation(facts(2400, requests=9000, backend_haproxy={"be": {"queued_requests": 0.0}}), TH)
    assert [g.scope.kind for g in nobody.named("queueing")] == ["site"]


def test_redis_memory_strictly_above_its_threshold() -> None:
    assert grade_saturation(facts(0, redis={"memory_pct": 80.0}), TH).severity == "ok"
    hot = grade_saturation(facts(0, requests=0, redis={"memory_pct": 91.5}), TH)
    assert hot.severity == "warning" and hot.named("redis_memory")[0].numbers == {"memory_pct": 91.5}

"""The differential diagnosis: every mode of the catalogue judged on every scope, the ones that
fit ranked. Pure: a Case in, a Diagnosis out."""

from __future__ import annotations

from dataclasses import dataclass

from agent_service.diagnosis.case import Case
from agent_service.diagnosis.changes import tie
from agent_service.diagnosis.errors import error_hypotheses
from agent_service.diagnosis.fmt import ms, num
from agent_service.diagnosis.hypothesis import Hypothesis, Level, ranked, worst
from agent_service.diagnosis.latency import latency_hypotheses
from agent_service.diagnosis.onset import recent_error_onsets
from agent_service.diagnosis.saturation import saturation_hypotheses
from agent_service.diagnosis.traffic import traffic_hypotheses
from agent_service.models import SpecialistName

CATALOGUE = {
    "latency": latency_hypotheses,
    "errors": error_hypotheses,
    "saturation": saturation_hypotheses,
    "traffic": traffic_hypotheses,
}


@dataclass(frozen=True)
class Diagnosis:
    case: Case
    hypotheses: tuple[Hypothesis, ...]  # ranked; severity "ok" ones are notes (a ruled-out verdict)

    def of(self, specialist: SpecialistName) -> list[Hypothesis]:
        return [h for h in self.hypotheses if h.specialist == specialist]

    def severity(self, specialist: SpecialistName) -> Level:
        return worst(h.severity for h in self.of(specialist))

    @property
    def problems(self) -> list[Hypothesis]:
        return [h for h in self.hypotheses if h.severity != "ok"]


def diagnose(case: Case, specialists: tuple[SpecialistName, ...] = tuple(CATALOGUE)) -> Diagnosis:  # type: ignore[assignment]
    found: list[Hypothesis] = []
    for name in specialists:
        found += CATALOGUE[name](case)
    found += [h for h in small_samples(case) if h.specialist in specialists]
    if "errors" in specialists:
        found += recent_error_onsets(case)  # a fast page: the fault is only the window's last minutes
    found = [tie(h, case) for h in found]  # a regression: the change before its onset, or none
    return Diagnosis(case, tuple(ranked(found)))


def small_samples(case: Case) -> list[Hypothesis]:
    """Scopes below MIN_REQUESTS that show errors or a slow tail: said to be too small to judge,
    never a verdict (an analysis of such a scope alone says so for the whole report)."""
    lim = case.limits
    out = []
    for s in case.data.of_kind("backend"):
        n = s.now.requests
        if not n or n >= case.min_requests_of(s):
            continue
        slow = s.now.ta.p99 is not None and s.now.ta.p99 > lim.latency.p99_critical_ms
        if s.now.errors_5xx or slow or s is case.data.site:
            what = []
            if s.now.errors_5xx:
                what.append(f"{num(s.now.errors_5xx)} answered 5xx")
            if slow:
                what.append(f"the slowest took {ms(s.now.ta.max)}")
            out.append(Hypothesis(
                "small_sample", "latency" if slow and not s.now.errors_5xx else "errors", "ok", s,
                headline="not enough data",
                sentence=(f"{s.name} served only {num(n)} requests in the window" + (f" ({', '.join(what)})" if what else "")
                          + f": too few to judge (fewer than {num(case.min_requests_of(s))}), not a verdict."),
                recommendation="", numbers={"requests": n, "min_requests": case.min_requests_of(s)}))
    return out

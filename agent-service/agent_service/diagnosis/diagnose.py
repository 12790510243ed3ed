"""The differential diagnosis: every mode of the catalogue judged on every scope, the ones that
fit ranked. Pure: a Case in, a Diagnosis out."""

from __future__ import annotations

from dataclasses import dataclass

from agent_service.diagnosis.case import Case
from agent_service.diagnosis.errors import error_hypotheses
from agent_service.diagnosis.hypothesis import Hypothesis, Level, ranked, worst
from agent_service.diagnosis.latency import latency_hypotheses
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
    return Diagnosis(case, tuple(ranked(found)))

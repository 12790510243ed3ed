"""A specialist's finding from the diagnosis: its severity, what it found in the order of the
ranking, the numbers that decided (signals `name[scope]`), and what it looked at when calm."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_service.diagnosis.case import Case
from agent_service.diagnosis.diagnose import Diagnosis
from agent_service.diagnosis.hypothesis import Hypothesis
from agent_service.models import SpecialistName
from agent_service.diagnosis.fmt import ms, num, pct, signal_key

MAX_SENTENCES = 4


@dataclass
class Verdict:
    severity: str
    summary: str
    details: str = ""
    signals: dict[str, float] = field(default_factory=dict)


def _calm(specialist: SpecialistName, case: Case) -> tuple[str, dict[str, float]]:
    """The sentence of a calm finding, and the numbers it computed."""
    site = case.data.site
    if site is None or site.now.requests == 0:
        return "No requests in the window: nothing to judge.", {}
    now, lim = site.now, case.limits
    if now.requests < lim.min_requests:
        return f"Only {num(now.requests)} requests in the window: not enough data for a verdict.", {}
    if specialist == "latency":
        tr = f"; server time Tr p95 {ms(now.tr.p95)}" if now.tr and now.tr.count and now.tr.p95 is not None else ""
        return (f"Latency within thresholds: p95 {ms(now.ta.p95)}, p99 {ms(now.ta.p99)} over "
                f"{num(now.requests)} requests{tr}."), {}
    if specialist == "errors":
        return (f"Errors within thresholds: {pct(now.rate_5xx)} 5xx and {pct(now.rate_4xx)} 4xx over "
                f"{num(now.requests)} requests."), {"error_rate_5xx_pct": now.rate_5xx, "error_rate_4xx_pct": now.rate_4xx}
    if specialist == "saturation":
        share = now.share(now.server_queued)
        return f"No sustained queueing: {pct(share)} of the requests waited in a queue.", {"queued_pct": share}
    if site.before.requests < lim.min_requests:
        return (f"No baseline to compare the traffic with ({num(site.before.requests)} requests in it): "
                f"{num(now.requests)} requests in the window."), {}
    return (f"Traffic steady against its baseline: {num(now.requests)} requests in the window, "
            f"{num(site.before.requests)} in the baseline."), {}


def _signals(h: Hypothesis) -> dict[str, float]:
    return {signal_key(k, h.where): float(v) for k, v in h.numbers.items()}


def verdict(diagnosis: Diagnosis, specialist: SpecialistName) -> Verdict:
    mine = diagnosis.of(specialist)
    problems = [h for h in mine if h.severity != "ok"]
    notes = [h for h in mine if h.severity == "ok"]
    parts: list[str] = []
    signals: dict[str, float] = {}
    for h in problems[:MAX_SENTENCES]:
        when = h.timing.words()
        parts.append(f"{h.sentence} ({h.severity})" + (f" {when}" if when else ""))
        signals.update(_signals(h))
    for h in notes[:2]:
        parts.append(h.sentence)
        signals.update(_signals(h))
    if not problems:
        calm, numbers = _calm(specialist, diagnosis.case)
        parts.append(calm)
        signals.update(numbers)
    details = []
    if len(problems) > MAX_SENTENCES:
        details.append(f"{len(problems) - MAX_SENTENCES} more: " + ", ".join(h.where for h in problems[MAX_SENTENCES:]))
    for h in problems[:MAX_SENTENCES]:
        if h.against:
            details.append(f"{h.where}: ruled out — " + "; ".join(h.against) + ".")
    if diagnosis.case.baseline_note:
        details.append(f"Baseline: {diagnosis.case.baseline_note}.")
    site = diagnosis.case.data.site
    if site is not None:
        signals.update({"requests": float(site.now.requests), "baseline_requests": float(site.before.requests)})
    return Verdict(severity=diagnosis.severity(specialist), summary=" ".join(parts), details=" ".join(details),
                   signals=signals)

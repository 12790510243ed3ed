"""The pure parts of `python -m bench page`: the case table, the traffic and server behaviour of
each case, matching emails to cases, the per-case figures and the printed table.

Every case is one HAProxy backend named after it; its traffic goes to `/<backend>/…`. Fault cases
switch their servers' behaviour at `fault_at` (after the healthy warm-up); healthy cases never do.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["fault", "healthy"]
Fault = Literal["none", "nosrv", "5xx", "slow", "refuse"]

# Healthy servers everywhere: latency lognormal with median 30 ms and p99 150 ms (sigma 0.69), a
# tail of 0.1 % outliers at 1–2 s, and 0.1 % of 500s: a backend meeting a 99.9 % availability SLO
# with some noise, so a rule that pages on a handful of events shows it.
MEDIAN_S = 0.030
SIGMA = 0.69
OUTLIER_SHARE = 0.001
BASE_ERROR_SHARE = 0.001
SLOW_S = 1.0  # a request slower than this counts as failing (the latency SLO's threshold)


@dataclass(frozen=True)
class Case:
    backend: str
    kind: Kind
    fault: Fault = "none"
    error_share: float = 0.0  # share of 5xx answers during the fault (5xx faults)
    slow_factor: float = 1.0  # latency multiplier during the fault
    servers: int = 1
    health_checks: bool = False
    rate: float = 10.0  # requests per second (the mean for the shaped healthy cases)
    shape: Literal["steady", "rise_fall", "bursty"] = "steady"
    target_s: float | None = None  # time-to-page target (fault cases)
    note: str = ""


CASES: tuple[Case, ...] = (
    Case("page_nosrv", "fault", "nosrv", health_checks=True, target_s=90,
         note="its only server stops listening; health checks mark it DOWN, HAProxy answers 503 <NOSRV>"),
    Case("page_5xx20", "fault", "5xx", error_share=0.20, target_s=180, note="20 % of answers are 500"),
    Case("page_5xx5", "fault", "5xx", error_share=0.05, target_s=360, note="5 % of answers are 500"),
    Case("page_p99x10", "fault", "slow", slow_factor=10.0, target_s=360,
         note="every answer 10x slower: p99 150 ms -> 1.5 s"),
    Case("page_refuse1of3", "fault", "refuse", servers=3, target_s=180,
         note="one server of three stops listening (no health checks: a third of the requests get 503 SC)"),
    Case("healthy_steady", "healthy", note="10 req/s"),
    Case("healthy_rise_fall", "healthy", shape="rise_fall", note="2 -> 20 -> 2 req/s, one raised cosine over the run"),
    Case("healthy_bursty", "healthy", rate=3.0, shape="bursty",
         note="3 req/s with 10 s bursts of 30 req/s every 45-90 s"),
)


def case_named(backend: str, cases: Iterable[Case] = CASES) -> Case:
    for case in cases:
        if case.backend == backend:
            return case
    raise KeyError(backend)


# ------------------------------------------------------------------------------ traffic
@dataclass
class Bursts:
    """Burst start times (seconds from the run's start) for the bursty shape, seeded."""

    starts: list[float] = field(default_factory=list)
    length_s: float = 10.0

    @classmethod
    def plan(cls, duration_s: float, seed: int = 7) -> Bursts:
        rng = random.Random(seed)
        starts, t = [], rng.uniform(20, 60)
        while t < duration_s:
            starts.append(t)
            t += rng.uniform(45, 90)
        return cls(starts)

    def active(self, t: float) -> bool:
        return any(start <= t < start + self.length_s for start in self.starts)


def rate_at(case: Case, t: float, duration_s: float, bursts: Bursts | None = None) -> float:
    """Requests per second `t` seconds into a run of `duration_s`."""
    if case.shape == "rise_fall":
        phase = min(max(t / duration_s, 0.0), 1.0)
        return 2.0 + 18.0 * (1 - math.cos(2 * math.pi * phase)) / 2
    if case.shape == "bursty":
        return 30.0 if bursts is not None and bursts.active(t) else case.rate
    return case.rate


@dataclass(frozen=True)
class Answer:
    status: int
    delay_s: float


def healthy_answer(rng: random.Random) -> Answer:
    if rng.random() < OUTLIER_SHARE:
        delay = rng.uniform(1.0, 2.0)
    else:
        delay = MEDIAN_S * math.exp(rng.gauss(0.0, SIGMA))
    status = 500 if rng.random() < BASE_ERROR_SHARE else 200
    return Answer(status, delay)


def answer(case: Case, faulty: bool, rng: random.Random) -> Answer:
    """What one server of `case` answers (refusing and stopped servers never get here)."""
    base = healthy_answer(rng)
    if not faulty:
        return base
    if case.fault == "5xx" and rng.random() < case.error_share:
        return Answer(500, base.delay_s)
    if case.fault == "slow":
        return Answer(base.status, base.delay_s * case.slow_factor)
    return base


def is_failure(status: int | None, duration_s: float) -> bool:
    """A failing request as the user sees it: a 5xx, no answer at all, or slower than SLOW_S."""
    return status is None or status >= 500 or duration_s > SLOW_S


# ------------------------------------------------------------------------------ emails
def backend_in(subject: str, backend: str) -> bool:
    """`backend` named in the subject as a whole word (page_5xx5 is not page_5xx50)."""
    return re.search(rf"(?<![\w-]){re.escape(backend)}(?![\w-])", subject) is not None


def match_mail(subject: str, cases: Iterable[Case] = CASES) -> str | None:
    """The backend of the case an email is about; None for emails naming no case (copilot alerts)."""
    named = [case.backend for case in cases if backend_in(subject, case.backend)]
    return named[0] if len(named) == 1 else None


def alert_names(text: str) -> list[str]:
    """Alert names mentioned in an email (the rules of monitoring/alert-rules.yml are CamelCase)."""
    known = re.findall(r"\b((?:High|Backend|Availability|Latency|Server|Traffic|HAProxy)[A-Za-z0-9]+)\b", text)
    return sorted(set(known))


# ------------------------------------------------------------------------------ figures
@dataclass
class CaseResult:
    backend: str
    kind: Kind
    first_failure_s: float | None = None  # seconds from the run's start
    emails: list[tuple[float, str]] = field(default_factory=list)  # (seconds from start, subject)
    requests: int = 0
    failures: int = 0
    alerts_in_first_email: list[str] = field(default_factory=list)

    @property
    def first_email_s(self) -> float | None:
        return self.emails[0][0] if self.emails else None

    @property
    def time_to_page_s(self) -> float | None:
        if self.first_failure_s is None or self.first_email_s is None:
            return None
        return self.first_email_s - self.first_failure_s

    def verdict(self, case: Case) -> str:
        if case.kind == "healthy":
            return "ok" if not self.emails else "FALSE PAGE"
        ttp = self.time_to_page_s
        if ttp is None:
            return "NOT PAGED"
        return "ok" if case.target_s is None or ttp <= case.target_s else "over target"

    def as_json(self, case: Case) -> dict[str, object]:
        return {
            "backend": self.backend, "kind": self.kind, "fault": case.fault, "note": case.note,
            "target_s": case.target_s, "first_failure_s": _round(self.first_failure_s),
            "first_email_s": _round(self.first_email_s), "time_to_page_s": _round(self.time_to_page_s),
            "emails": [{"at_s": round(at, 1), "subject": subject} for at, subject in self.emails],
            "alerts_in_first_email": self.alerts_in_first_email,
            "requests": self.requests, "failures": self.failures, "verdict": self.verdict(case),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(results: list[CaseResult], cases: Iterable[Case] = CASES, *, healthy_minutes: float) -> str:
    """The printed table: one row per case."""
    by_name = {case.backend: case for case in cases}
    head = "| case | first failing request (s) | first email (s) | time to page (s) | target | emails | alerts in the page | verdict |"
    rows = [head, "|" + "---|" * 8]
    for result in results:
        case = by_name[result.backend]
        target = f"≤ {case.target_s:g} s" if case.target_s else f"0 pages in {healthy_minutes:.0f} min"
        rows.append(f"| {result.backend} | {_fmt(result.first_failure_s)} | {_fmt(result.first_email_s)} | "
                    f"{_fmt(result.time_to_page_s)} | {target} | {len(result.emails)} | "
                    f"{', '.join(result.alerts_in_first_email) or '-'} | {result.verdict(case)} |")
    return "\n".join(rows)

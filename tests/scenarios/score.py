"""Score an IncidentReport (as JSON) against a scenario's `expect`, and sum scores up over a run."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.scenarios.model import Expect

SPECIALISTS = ("latency", "errors", "saturation", "traffic")
FLAGGED = ("warning", "critical")


@dataclass
class Score:
    scenario: str
    passed: bool
    reasons: list[str]
    severity_expected: list[str]
    severity_got: str | None
    severity_ok: bool
    specialists: dict[str, str]  # specialist -> severity the report gave
    true_flags: int = 0  # flagged and expected flagged
    false_flags: int = 0  # flagged but expected ok
    missed_flags: int = 0  # expected flagged, not flagged
    backend_ok: bool | None = None  # None: no backend expected; else `backend` and every `backends` named
    server_ok: bool | None = None  # None: no server expected
    title_ok: bool | None = None  # None: nothing required in the title
    keywords_ok: bool | None = None  # None: no keywords expected
    forbidden_ok: bool | None = None  # None: no forbidden words; False: one of them was said
    proposals_ok: bool | None = None  # None: no proposal expected
    proposals: list[str] = field(default_factory=list)  # what the report proposed, `type target`
    duration_ms: float = 0.0  # as the report says
    wall_ms: float = 0.0  # as the caller measured /analyze
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    engine: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _names(text: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_.-]){re.escape(name)}(?![A-Za-z0-9_])", text, re.IGNORECASE) is not None


def _report_text(report: dict[str, Any]) -> str:
    parts = [str(report.get("title") or ""), str(report.get("diagnosis") or "")]
    for finding in report.get("findings") or []:
        parts += [str(finding.get("summary") or ""), str(finding.get("details") or "")]
    return "\n".join(parts)


def _named_text(report: dict[str, Any]) -> str:
    """Where a server counts as named: title, diagnosis, findings and recommendations."""
    return "\n".join([_report_text(report), *map(str, report.get("recommendations") or [])])


def _advice_text(report: dict[str, Any]) -> str:
    recommendations = report.get("recommendations") or []
    return "\n".join([str(report.get("diagnosis") or ""), *map(str, recommendations)]).lower()


def failed(scenario: str, expect: Expect, error: str, *, wall_ms: float = 0.0) -> Score:
    """A scenario whose report never arrived (stack down, 5xx, timeout)."""
    return Score(
        scenario=scenario, passed=False, reasons=[error], severity_expected=list(expect.severities),
        severity_got=None, severity_ok=False, specialists={}, missed_flags=len(expect.flagged),
        backend_ok=False if expect.named_backends else None, server_ok=False if expect.server else None,
        title_ok=False if expect.in_title else None,
        keywords_ok=False if expect.keywords else None, forbidden_ok=None, wall_ms=wall_ms, error=error,
    )


def score(scenario: str, expect: Expect, report: dict[str, Any], *, wall_ms: float = 0.0) -> Score:
    reasons: list[str] = []
    got = report.get("overall_severity")
    severity_ok = got in expect.severities
    if not severity_ok:
        reasons.append(f"overall_severity is {got!r}, expected {' or '.join(expect.severities)}")

    specialists = {str(f.get("specialist")): str(f.get("severity")) for f in report.get("findings") or []}
    true_flags = false_flags = missed = 0
    for name in expect.flagged:
        severity = specialists.get(name, "missing")
        if severity in FLAGGED:
            true_flags += 1
        else:
            missed += 1
            reasons.append(f"{name} should flag (warning/critical) but is {severity!r}")
    for name in expect.ok:
        severity = specialists.get(name, "missing")
        if severity in FLAGGED:
            false_flags += 1
        if severity != "ok":
            reasons.append(f"{name} should stay ok but is {severity!r}")

    backend_ok: bool | None = None
    if expect.named_backends:
        text = _report_text(report)
        unnamed = [name for name in expect.named_backends if not _names(text, name)]
        backend_ok = not unnamed
        for name in unnamed:
            reasons.append(f"backend {name!r} is not named in title, diagnosis or findings")

    server_ok: bool | None = None
    if expect.server:
        server_ok = _names(_named_text(report), expect.server)
        if not server_ok:
            reasons.append(f"server {expect.server!r} is not named in title, diagnosis, findings or recommendations")

    title_ok: bool | None = None
    if expect.in_title:
        title = str(report.get("title") or "")
        absent = [name for name in expect.in_title if not _names(title, name)]
        title_ok = not absent
        for name in absent:
            reasons.append(f"{name!r} is not in the title")

    keywords_ok: bool | None = None
    if expect.keywords:
        text = _advice_text(report)
        missing = [group for group in expect.keywords if not any(word.lower() in text for word in group)]
        keywords_ok = not missing
        for group in missing:
            reasons.append(f"none of {group} in diagnosis or recommendations")

    forbidden_ok: bool | None = None
    if expect.forbidden:
        text = _advice_text(report)
        said = [word for word in expect.forbidden if word.lower() in text]
        forbidden_ok = not said
        if said:
            reasons.append(f"forbidden {said} said in diagnosis or recommendations")

    made = proposal_names(report)
    proposals_ok: bool | None = None
    if expect.proposals:
        absent = [p for p in expect.proposals if p not in made and p not in {m.split(" ", 1)[0] for m in made}]
        proposals_ok = not absent
        if absent:
            reasons.append(f"proposals {absent} not made (made: {made or 'none'})")

    engine = report.get("engine") or {}
    return Score(
        scenario=scenario,
        passed=not reasons,
        reasons=reasons,
        severity_expected=list(expect.severities),
        severity_got=got,
        severity_ok=severity_ok,
        specialists=specialists,
        true_flags=true_flags,
        false_flags=false_flags,
        missed_flags=missed,
        backend_ok=backend_ok,
        server_ok=server_ok,
        title_ok=title_ok,
        keywords_ok=keywords_ok,
        forbidden_ok=forbidden_ok,
        proposals_ok=proposals_ok,
        proposals=made,
        duration_ms=float(report.get("duration_ms") or 0.0),
        wall_ms=wall_ms,
        input_tokens=int(engine.get("input_tokens") or 0)
        + int(engine.get("cache_read_input_tokens") or 0)
        + int(engine.get("cache_creation_input_tokens") or 0),
        output_tokens=int(engine.get("output_tokens") or 0),
        cost_usd=float(engine.get("cost_usd") or 0.0),
        engine=engine.get("kind"),
    )


def _ratio(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


@dataclass
class Summary:
    scenarios: int
    passed: int
    pass_rate: float | None
    severity_accuracy: float | None
    flag_precision: float | None
    flag_recall: float | None
    backend_accuracy: float | None
    server_accuracy: float | None
    title_accuracy: float | None
    keyword_accuracy: float | None
    forbidden_clean: float | None  # share of scenarios with forbidden words where none was said
    mean_wall_ms: float
    p95_wall_ms: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(scores: list[Score]) -> Summary:
    tp = sum(s.true_flags for s in scores)
    fp = sum(s.false_flags for s in scores)
    fn = sum(s.missed_flags for s in scores)
    backends = [s.backend_ok for s in scores if s.backend_ok is not None]
    keywords = [s.keywords_ok for s in scores if s.keywords_ok is not None]
    servers = [s.server_ok for s in scores if s.server_ok is not None]
    titles = [s.title_ok for s in scores if s.title_ok is not None]
    forbidden = [s.forbidden_ok for s in scores if s.forbidden_ok is not None]
    walls = [s.wall_ms for s in scores]
    return Summary(
        scenarios=len(scores),
        passed=sum(s.passed for s in scores),
        pass_rate=_ratio(sum(s.passed for s in scores), len(scores)),
        severity_accuracy=_ratio(sum(s.severity_ok for s in scores), len(scores)),
        flag_precision=_ratio(tp, tp + fp),
        flag_recall=_ratio(tp, tp + fn),
        backend_accuracy=_ratio(sum(backends), len(backends)),
        server_accuracy=_ratio(sum(servers), len(servers)),
        title_accuracy=_ratio(sum(titles), len(titles)),
        keyword_accuracy=_ratio(sum(keywords), len(keywords)),
        forbidden_clean=_ratio(sum(forbidden), len(forbidden)),
        mean_wall_ms=round(sum(walls) / len(walls), 1) if walls else 0.0,
        p95_wall_ms=round(_percentile(walls, 0.95), 1),
        input_tokens=sum(s.input_tokens for s in scores),
        output_tokens=sum(s.output_tokens for s in scores),
        cost_usd=round(sum(s.cost_usd for s in scores), 6),
        failures=[s.scenario for s in scores if not s.passed],
    )


def proposal_names(report: dict[str, Any]) -> list[str]:
    """The report's remediation proposals as `type target` (the server's `backend/server`)."""
    out = []
    for p in report.get("proposals") or []:
        if not isinstance(p, dict):
            continue
        target = f"{p.get('backend')}/{p['server']}" if p.get("server") else (p.get("backend") or p.get("service")
                                                                              or p.get("path") or p.get("client") or "")
        out.append(f"{p.get('type')} {target}".strip())
    return out

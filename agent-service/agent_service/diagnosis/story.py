"""The synthesis of a diagnosis: the modes that won, told per backend in causal order (the root
first, what it explains after), each backend named with its own problem in the title, the first
recommendation acting on the named server or backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent_service.diagnosis.case import Reference
from agent_service.diagnosis.diagnose import Diagnosis
from agent_service.diagnosis.hypothesis import RANK, Hypothesis, worst
from agent_service.engine import AnalysisContext, Synthesis
from agent_service.models import Finding
from agent_service.diagnosis.fmt import scope_text as _scope_text
from agent_service.diagnosis.prometheus import sentences as prometheus_sentences

MAX_RECOMMENDATIONS = 6
MAX_TITLE_GROUPS = 3


@dataclass(frozen=True)
class Group:
    """The problems of one subject (a backend, or a frontend / the site for traffic)."""

    subject: str
    items: tuple[Hypothesis, ...]

    @property
    def root(self) -> Hypothesis:
        return min(self.items, key=lambda h: (h.causal_rank, -RANK[h.severity]))

    @property
    def severity(self) -> str:
        return worst(h.severity for h in self.items)

    @property
    def headline(self) -> str:
        """The root's headline; a regression that shows in both latency and errors says both."""
        root = self.root
        if root.mode == "regression" and {h.specialist for h in self.items if h.mode == "regression"} >= {
                "latency", "errors"}:
            return "regression: slower and failing"
        return root.headline

    @property
    def named(self) -> str:
        root = self.root
        return f"{self.subject} ({root.server})" if root.server and root.server not in self.subject else self.subject


def groups(problems: Sequence[Hypothesis]) -> list[Group]:
    by: dict[str, list[Hypothesis]] = {}
    for h in problems:
        by.setdefault(h.backend or h.where, []).append(h)
    out = [Group(subject, tuple(items)) for subject, items in by.items()]
    return sorted(out, key=lambda g: (-RANK[g.severity], g.root.causal_rank, g.subject))


def _distinct(items: Sequence[Hypothesis]) -> list[Hypothesis]:
    """One hypothesis per (mode, scope, server): several specialists may see the same mode."""
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for h in sorted(items, key=lambda h: (h.causal_rank, -RANK[h.severity])):
        key = (h.mode, h.where, h.server)
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out


def _group_story(g: Group) -> str:
    root = g.root
    when = root.timing.words()
    lines = [root.sentence + (f" {when}" if when else "")]
    others = [h for h in _distinct(g.items) if (h.mode, h.server) != (root.mode, root.server)]
    if others:
        follows = "; ".join(h.sentence.rstrip(".") for h in others[:3])
        lines.append(f"It explains what the other specialists see on {g.subject}: {follows}."
                     if root.causal_rank < min(h.causal_rank for h in others) else f"Also on {g.subject}: {follows}.")
    if root.against:
        lines.append("Ruled out: " + "; ".join(root.against) + ".")
    return " ".join(lines)


def _too_small(diagnosis: Diagnosis) -> bool:
    site = diagnosis.case.data.site
    return site is not None and 0 < site.now.requests < diagnosis.case.limits.min_requests


def cited(refs: Sequence[Reference]) -> list[str]:
    """The runbook sections and the past incidents the case matched, as recommendations."""
    out = []
    for r in refs:
        if r.kind == "runbook":
            out.append(f"Follow runbook {r.title} › {r.heading} ({r.file}).")
        elif r.incident_id is not None and r.resolution:
            on = f" on {r.resolved_at.day} {r.resolved_at:%b}" if r.resolved_at else ""
            out.append(f"Last seen as #{r.incident_id}{on}: fixed by {r.resolution.rstrip('.')}.")
    return out


def tell(diagnosis: Diagnosis, findings: Sequence[Finding], context: AnalysisContext | None) -> Synthesis:
    where = _scope_text(context)
    failed = [f for f in findings if f.status != "completed"]
    done = [f for f in findings if f.status == "completed"]
    gs = groups(diagnosis.problems)
    overall = worst(h.severity for h in diagnosis.problems)
    lines: list[str] = []
    if not done:
        title = f"Analysis incomplete: no signal could be read{where}"
        lines.append("None of the specialists could read its signals, so nothing can be said about the service's health.")
    elif not gs and _too_small(diagnosis):
        site = diagnosis.case.data.site
        n = site.now.requests if site else 0
        title = f"Not enough data to judge{where}: {n} requests"
        lines.append(f"Only {n} requests in the window: too few to judge (fewer than "
                     f"{diagnosis.case.limits.min_requests:g}), so no verdict — not a clean bill of health either.")
    elif not gs:
        title = f"Healthy: golden signals within thresholds{where}"
        calm = ", ".join(f.specialist for f in done)
        lines.append(f"The {calm} specialists found their signals normal against the baseline and the thresholds.")
    else:
        named = [f"{g.named} — {g.headline}" for g in gs[:MAX_TITLE_GROUPS]]
        more = f" and {len(gs) - MAX_TITLE_GROUPS} more" if len(gs) > MAX_TITLE_GROUPS else ""
        title = f"{overall.capitalize()}: " + "; ".join(named) + more
        if len(gs) > 1:
            lines.append(f"{len(gs)} separate problems: " + "; ".join(f"{g.named} ({g.headline})" for g in gs) + ".")
        lines += [_group_story(g) for g in gs]
    notes = _distinct([h for h in diagnosis.hypotheses if h.severity == "ok"])[:3]
    if notes:
        lines.append(("Also noted: " if gs else "") + " ".join(h.sentence for h in notes))
    for f in failed:
        lines.append(f"The {f.specialist} specialist did not finish ({f.status}): {f.error or 'no reason given'}.")
    lines += prometheus_sentences(diagnosis.case.prometheus)
    if diagnosis.case.baseline_note:
        lines.append(f"Baseline: {diagnosis.case.baseline_note}.")
    recs: list[str] = []
    for g in gs:
        for h in _distinct(g.items):
            if h.recommendation and h.recommendation not in recs:
                recs.append(h.recommendation)
    recs += [h.recommendation for h in notes if h.recommendation and h.recommendation not in recs]
    if gs:  # the runbook and the last fix right after the first action on the named scope
        recs[1:1] = [c for c in cited(diagnosis.case.references) if c not in recs]
    if failed:
        recs.append("Some signals could not be read: check ingestion-service and Redis before trusting a calm report.")
    if gs and len(recs) < MAX_RECOMMENDATIONS:
        recs.append("Watch the same signals after each action: the report can be re-run on the same window.")
    return Synthesis(title=title[:200], diagnosis=" ".join(lines), recommendations=recs[:MAX_RECOMMENDATIONS],
                     overall_severity=overall if done else "ok")  # type: ignore[arg-type]

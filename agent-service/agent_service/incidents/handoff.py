"""Handoff for the next on-call engineer: what happened, what was tried, current state, open
questions. Built by rules from the timeline; written by the LLM when the engine is anthropic (the
incident material then goes to the model inside a tool result, never in the prompt), falling back
to the rules version if the model fails."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from agent_service.engine import Usage
from agent_service.incidents.models import Handoff, Incident, IncidentStatus
from agent_service.incidents.postmortem import fmt_delta, fmt_time
from agent_service.report.escape import md_escape

HANDOFF_TEMPLATE = "handoff"
MAX_WORDS = 250


@runtime_checkable
class TextWriter(Protocol):
    """The Claude engine's free-text helper: instructions from a template, material as data."""

    async def write(self, template: str, material: dict[str, Any], **values: Any) -> tuple[str, Usage]: ...


REMEDIATION_TRIED = ("proposal_approved", "proposal_rejected", "proposal_executed", "proposal_failed",
                     "proposal_undone", "proposal_undo_failed")


def rules_handoff(incident: Incident, *, now: datetime) -> Handoff:
    report = incident.reports[-1] if incident.reports else None
    alertnames = sorted({a.labels.get("alertname", "?") for a in incident.alerts})
    firing = [a for a in incident.alerts if a.status == "firing"]
    happened = f"Incident #{incident.id} ({incident.severity}) opened {fmt_time(incident.created_at)}"
    if alertnames:
        happened += f" from alert(s) {', '.join(alertnames)}"
    happened += "."
    if report:
        happened += f" Analysis: {report.title} — {report.diagnosis}"
    tried: list[str] = []
    for event in incident.timeline:  # remediation decisions and what they did are what was tried too
        if event.kind in ("status_changed", "note", "analysis_finished", "analysis_failed", "reopened",
                          "acknowledged", "escalated", *REMEDIATION_TRIED):
            tried.append(f"{event.at.strftime('%H:%M')} {event.actor}: {event.message}")
    age = fmt_delta(now - incident.created_at)
    state = f"{incident.status.value} for {age} since opening; {len(firing)} of {len(incident.alerts)} alerts firing."
    if incident.status == IncidentStatus.MITIGATED:
        state += " The alerts cleared; RESOLVED is a human decision once the cause is understood."
    questions: list[str] = []
    if not incident.root_cause:
        questions.append("Root cause not recorded yet.")
    if incident.status != IncidentStatus.RESOLVED and not incident.resolution:
        questions.append("What fix or mitigation is in place, and does it hold?")
    if report is None:
        questions.append("No analysis attached: run POST /analyze for the incident's scope.")
    else:
        failed = [f.specialist for f in report.findings if f.status != "completed"]
        if failed:
            questions.append(f"Specialists without a result: {', '.join(failed)}.")
        questions.extend(f"Try: {r}" for r in report.recommendations[:3])
    if incident.acknowledged_at is None:
        questions.append("Nobody has acknowledged this incident yet.")
    else:
        state += f" {incident.acknowledged_by or 'Someone'} has it (acknowledged {fmt_time(incident.acknowledged_at)})."
    if incident.escalation_step:
        state += f" Escalated {incident.escalation_step} time(s) while nobody acknowledged."
    handoff = Handoff(
        incident_id=incident.id,
        generated_by="rules",
        status=incident.status,
        what_happened=happened,
        what_was_tried=tried[-15:],
        current_state=state,
        open_questions=questions,
        markdown="",
    )
    handoff.markdown = handoff_markdown(incident, handoff)
    return handoff


def handoff_markdown(incident: Incident, handoff: Handoff, text: str | None = None) -> str:
    lines = [f"# Handoff: incident #{incident.id} — {md_escape(incident.title, 300)}", ""]
    if text:
        return "\n".join([*lines, text.strip(), ""])
    lines += ["## What happened", "", md_escape(handoff.what_happened), "", "## What was tried", ""]
    lines += [f"- {md_escape(t)}" for t in handoff.what_was_tried] or ["- nothing recorded yet"]
    lines += ["", "## Current state", "", md_escape(handoff.current_state), "", "## Open questions", ""]
    lines += [f"- {md_escape(q)}" for q in handoff.open_questions] or ["- none"]
    return "\n".join(lines) + "\n"


def handoff_material(incident: Incident) -> dict[str, Any]:
    """The facts the model may use. Alert annotations are left out altogether."""
    report = incident.reports[-1] if incident.reports else None
    return {
        "incident": {
            "id": incident.id,
            "status": incident.status.value,
            "severity": incident.severity,
            "created_at": incident.created_at.isoformat(),
            "acknowledged_by": incident.acknowledged_by,
            "acknowledged_at": incident.acknowledged_at.isoformat() if incident.acknowledged_at else None,
            "escalation_steps_paged": incident.escalation_step,
            "alerts": [{"status": a.status, "labels": a.labels} for a in incident.alerts[:20]],
            "root_cause": incident.root_cause,
            "resolution": incident.resolution,
        },
        "timeline": [
            {"at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "message": e.message}
            for e in incident.timeline[-40:]
        ],
        "report": report.model_dump(mode="json", include={"title", "diagnosis", "recommendations", "overall_severity"})
        if report
        else None,
        "findings": [
            {"specialist": f.specialist, "severity": f.severity, "summary": f.summary, "signals": f.signals}
            for f in (report.findings if report else [])
        ],
    }


async def llm_handoff(incident: Incident, writer: TextWriter, *, now: datetime) -> Handoff:
    base = rules_handoff(incident, now=now)
    try:
        text, _usage = await writer.write(HANDOFF_TEMPLATE, handoff_material(incident), max_words=MAX_WORDS)
    except Exception as exc:  # noqa: BLE001 - the rules handoff is still useful
        base.llm_error = f"{type(exc).__name__}: {str(exc)[:200]}"
        return base
    if not text.strip():
        base.llm_error = "the model returned no text"
        return base
    base.generated_by = "llm"
    base.markdown = handoff_markdown(incident, base, text)
    return base

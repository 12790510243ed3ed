"""An IncidentReport as markdown that reads well in a terminal (`?format=markdown`)."""

from __future__ import annotations

from agent_service.models import Finding, IncidentReport, SimilarIncident
from agent_service.remediation.models import summary
from agent_service.report.escape import md_escape

_MARK = {"ok": "OK", "warning": "WARNING", "critical": "CRITICAL", "unknown": "UNKNOWN"}


def last_seen(incident: SimilarIncident, limit: int | None = 300) -> str:
    """`Last seen as #12 on 3 Nov: fixed by draining app3 (be_app 5xx)`; outside text escaped."""
    on = f" on {incident.resolved_at.day} {incident.resolved_at:%b}" if incident.resolved_at else ""
    fix = f"fixed by {md_escape(incident.resolution, limit)}" if incident.resolution else "no fix recorded"
    return f"Last seen as #{incident.incident_id}{on}: {fix} ({md_escape(incident.title, limit)})"


def _clean(text: str) -> str:
    """Log-derived text is shown as text: no markdown structure can be injected from it."""
    return md_escape(text)


def _window(report: IncidentReport) -> str:
    start = report.window.start.strftime("%Y-%m-%d %H:%M")
    end = report.window.end.strftime("%H:%M:%S UTC")
    return f"{start} → {end} ({report.window.seconds // 60} min)"


def _finding(finding: Finding) -> list[str]:
    status = "" if finding.status == "completed" else f" — {finding.status}"
    lines = [f"### {finding.specialist.capitalize()}: {_MARK[finding.severity]}{status}", ""]
    if finding.summary:
        lines += [_clean(finding.summary), ""]
    if finding.error:
        lines += [f"Error: {_clean(finding.error)}", ""]
    if finding.details:
        lines += [f"_{_clean(finding.details)}_", ""]
    if finding.signals:
        shown = ", ".join(f"{_clean(k)}={v:g}" for k, v in list(finding.signals.items())[:12])
        lines += [f"Signals: {shown}", ""]
    tools = sorted({e.tool for e in finding.evidence})
    lines += [f"Evidence: {len(finding.evidence)} tool calls ({', '.join(tools) or 'none'}); {finding.duration_ms:.0f} ms", ""]
    return lines


def render(report: IncidentReport) -> str:
    scope = ", ".join(
        f"{k} {_clean(v)}" for k, v in (("backend", report.scope.backend), ("frontend", report.scope.frontend)) if v
    )
    lines = [
        f"# [{_MARK[report.overall_severity]}] {_clean(report.title)}",
        "",
        f"Report {report.id} · {report.created_at.strftime('%Y-%m-%d %H:%M:%S UTC')} · window {_window(report)}"
        + (f" · {scope}" if scope else ""),
        "",
    ]
    if report.question:
        lines += [f"> Question: {_clean(report.question)}", ""]
    lines += ["## Diagnosis", "", _clean(report.diagnosis), ""]
    if report.recommendations:
        lines += ["## What to do first", ""]
        lines += [f"{i}. {_clean(rec)}" for i, rec in enumerate(report.recommendations, 1)]
        lines.append("")
    if report.proposals:
        lines += ["## Proposed actions (each needs an approval)", ""]
        for p in report.proposals:
            here = "executable here" if p.executable_here else "carried out by a person"
            lines.append(f"- **{p.id}** {_clean(summary(p))} — risk {p.risk.level}; {here}; undo: {_clean(p.undo.how)}")
        lines.append("")
    lines += ["## Findings", ""]
    for finding in report.findings:
        lines += _finding(finding)
    if report.similar_incidents:
        lines += ["## Similar past incidents", ""]
        for incident in report.similar_incidents:
            lines.append(f"- {last_seen(incident)}")
        lines.append("")
    if report.ungrounded_claims:
        lines += ["## Numbers not found in the evidence", ""]
        lines += [f"- {_clean(claim)}" for claim in report.ungrounded_claims]
        lines.append("")
    engine = report.engine
    usage = f"engine {engine.kind}"
    if engine.kind != "rules":  # a model engine: its models and what it spent
        usage += (
            f" ({engine.specialist_model} / {engine.synthesis_model}): {engine.llm_calls} LLM calls, "
            f"{engine.input_tokens} in / {engine.output_tokens} out tokens "
            f"({engine.cache_read_input_tokens} cached), ${engine.cost_usd:.4f}"
        )
    usage += f"; {engine.tool_calls} tool calls; synthesis {report.synthesis}"
    if report.synthesis_error:
        usage += f" (LLM synthesis failed: {_clean(report.synthesis_error)})"
    sources = ", ".join(f"{name} {state}" for name, state in report.sources.items())
    lines += ["---", f"{usage}; sources: {sources}; {report.duration_ms:.0f} ms", ""]
    return "\n".join(lines)

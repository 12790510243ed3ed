"""Post-mortem markdown and the incident's time measures, computed from the stored timeline.

Milestones: impact start (first bad minute in the golden signals) → alert (earliest startsAt of
the group's alerts: Prometheus fired) → acknowledged (first human action) → mitigated → resolved.
  TTD  time to detect     = alert − impact start
  TTA  time to acknowledge = acknowledged − alert
  TTM  time to mitigate   = mitigated − impact start
  TTR  time to resolve    = resolved − impact start
When the signals were unavailable, impact start falls back to the alert time (and says so).
Over many incidents the means of these are MTTD/MTTR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agent_service.incidents.models import Incident
from agent_service.report.escape import md_escape
from agent_service.report.markdown import last_seen


@dataclass(frozen=True)
class Timings:
    impact_started_at: datetime | None
    impact_source: str  # "signals" | "alert" | "created"
    alert_at: datetime | None
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    ttd: timedelta | None
    tta: timedelta | None
    ttm: timedelta | None
    ttr: timedelta | None


def _delta(later: datetime | None, earlier: datetime | None) -> timedelta | None:
    if later is None or earlier is None:
        return None
    return max(later - earlier, timedelta(0))


def timings(incident: Incident) -> Timings:
    alert_at = incident.detected_at
    if incident.impact_started_at is not None:
        impact, source = incident.impact_started_at, "signals"
    elif alert_at is not None:
        impact, source = alert_at, "alert"
    else:
        impact, source = incident.created_at, "created"
    start_of_response = alert_at or incident.created_at
    return Timings(
        impact_started_at=impact,
        impact_source=source,
        alert_at=alert_at,
        acknowledged_at=incident.acknowledged_at,
        mitigated_at=incident.mitigated_at,
        resolved_at=incident.resolved_at,
        ttd=_delta(alert_at, impact) if source == "signals" else None,
        tta=_delta(incident.acknowledged_at, start_of_response),
        ttm=_delta(incident.mitigated_at, impact),
        ttr=_delta(incident.resolved_at, impact),
    )


def fmt_delta(value: timedelta | None) -> str:
    if value is None:
        return "n/a"
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def _cell(text: str, limit: int = 300) -> str:
    return md_escape(text, limit)


def render_postmortem(incident: Incident) -> str:
    t = timings(incident)
    report = incident.reports[-1] if incident.reports else None
    lines = [
        f"# Post-mortem: incident #{incident.id} — {_cell(incident.title)}",
        "",
        f"- **Status:** {incident.status.value}  ",
        f"- **Severity:** {incident.severity}  ",
        f"- **Source:** {incident.source}  ",
        f"- **Opened:** {fmt_time(incident.created_at)}  ",
    ]
    if incident.acknowledged_by:
        lines.append(f"- **Acknowledged by:** {_cell(incident.acknowledged_by, 100)} at "
                     f"{fmt_time(incident.acknowledged_at)}  ")
    if incident.escalation_step:
        lines.append(f"- **Escalated:** {incident.escalation_step} step(s) before anyone acknowledged  ")
    if incident.related_incident_id:
        lines.append(f"- **Related:** incident #{incident.related_incident_id} (same alert group, earlier)  ")
    lines += ["", "## Summary", ""]
    if report:
        lines.append(_cell(f"{report.title}. {report.diagnosis}", 4000))
    else:
        lines.append(_cell(incident.summary, 4000) or "No analysis was attached to this incident.")
    lines += ["", "## Impact", ""]
    scope = ", ".join(f"{k} {_cell(v)}" for k, v in incident.scope.items() if v) or "not scoped"
    lines.append(f"Scope: {scope}. Alerts: {len(incident.alerts)} "
                 f"({', '.join(sorted({_cell(a.labels.get('alertname', '?')) for a in incident.alerts})) or 'none'}).")
    if report:
        for finding in report.findings:
            if finding.severity in ("warning", "critical"):
                lines.append(f"- {finding.specialist} ({finding.severity}): {_cell(finding.summary, 1500)}")
    lines += [
        "",
        "## Time to detect, acknowledge, mitigate, resolve",
        "",
        "| milestone | time | since impact start |",
        "|---|---|---|",
        f"| impact start ({t.impact_source}) | {fmt_time(t.impact_started_at)} | 0s |",
        f"| alert fired | {fmt_time(t.alert_at)} | {fmt_delta(_delta(t.alert_at, t.impact_started_at))} |",
        f"| acknowledged | {fmt_time(t.acknowledged_at)} | {fmt_delta(_delta(t.acknowledged_at, t.impact_started_at))} |",
        f"| mitigated | {fmt_time(t.mitigated_at)} | {fmt_delta(t.ttm)} |",
        f"| resolved | {fmt_time(t.resolved_at)} | {fmt_delta(t.ttr)} |",
        "",
        f"**TTD** {fmt_delta(t.ttd)} · **TTA** {fmt_delta(t.tta)} · **TTM** {fmt_delta(t.ttm)} · "
        f"**TTR** {fmt_delta(t.ttr)}",
    ]
    if t.impact_source != "signals":
        lines.append("")
        lines.append("_The golden signals gave no bad minute before the alert: impact start is the "
                     f"{t.impact_source} time, so TTD is not measured._")
    lines += ["", "## Timeline", "", "| time (UTC) | actor | event |", "|---|---|---|"]
    for event in incident.timeline:
        lines.append(f"| {event.at.strftime('%H:%M:%S')} | {_cell(event.actor)} | {_cell(event.message)} |")
    lines += ["", "## Root cause", "", incident.root_cause or "_Not recorded yet._"]
    lines += ["", "## Resolution", "", incident.resolution or "_Not recorded yet._"]
    lines += ["", "## Action items", ""]
    items = list(incident.action_items)
    if report and not items:
        items = [f"(from the analysis) {r}" for r in report.recommendations]
    lines += [f"- [ ] {_cell(item)}" for item in items] or ["_None recorded._"]
    if report and report.similar_incidents:
        lines += ["", "## Similar past incidents", ""]
        for s in report.similar_incidents:
            lines.append(f"- {last_seen(s)}")
    return "\n".join(lines) + "\n"

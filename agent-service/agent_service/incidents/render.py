"""The incident as short markdown for the notification email (the report in brief)."""

from __future__ import annotations

from agent_service.incidents.models import Incident
from agent_service.report.escape import md_escape
from agent_service.report.markdown import last_seen


def _line(text: str, limit: int = 300) -> str:
    return md_escape(text, limit)


def incident_markdown(incident: Incident) -> str:
    lines = [
        f"# #{incident.id} {_line(incident.title)}",
        "",
        f"**Status:** {incident.status.value} · **Severity:** {incident.severity} · **Source:** {incident.source}",
        "",
    ]
    if incident.acknowledged_at is not None:
        who = _line(incident.acknowledged_by or "someone", 100)
        lines += [f"**Acknowledged by:** {who} at {incident.acknowledged_at:%Y-%m-%d %H:%M:%S} UTC", ""]
    elif incident.escalation_step:
        lines += [f"**Not acknowledged** (escalation step {incident.escalation_step})", ""]
    firing = [a for a in incident.alerts if a.status == "firing"]
    if incident.alerts:
        lines.append(f"## Alerts ({len(firing)} firing of {len(incident.alerts)})")
        lines.append("")
        for alert in incident.alerts[:20]:
            summary = alert.annotations.get("summary", "")
            lines.append(f"- {alert.status} {_line(alert.labels.get('alertname', '?'), 100)} since "
                         f"{alert.starts_at:%Y-%m-%d %H:%M:%S} UTC {('— ' + _line(summary, 200)) if summary else ''}")
        lines.append("")
    report = incident.reports[-1] if incident.reports else None
    if report:
        lines += [f"## Analysis: {_line(report.title)} ({report.overall_severity})", "", _line(report.diagnosis, 4000), ""]
        for finding in report.findings:
            lines.append(f"- **{_line(finding.specialist)}** {finding.severity}: {_line(finding.summary)}")
        if report.recommendations:
            lines += ["", "### Recommendations", ""]
            lines += [f"{i}. {_line(r)}" for i, r in enumerate(report.recommendations, 1)]
        if report.similar_incidents:
            lines += ["", "### Similar past incidents", ""]
            lines += [f"- {last_seen(s)}" for s in report.similar_incidents]
        lines.append("")
    if incident.root_cause:
        lines += ["## Root cause", "", _line(incident.root_cause, 4000), ""]
    if incident.resolution:
        lines += ["## Resolution", "", _line(incident.resolution, 4000), ""]
    lines += ["## Latest events", ""]
    lines += [f"- {e.at:%H:%M:%S} {_line(e.actor)}: {_line(e.message)}" for e in incident.timeline[-8:]]
    return "\n".join(lines) + "\n"

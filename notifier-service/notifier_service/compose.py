"""Build the email of one notification: subject, threading headers, text and HTML parts (pure)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from notifier_service.report import render_report

SEVERITY_COLORS = {"critical": "#cf222e", "warning": "#bf8700", "info": "#0969da", "ok": "#1a7f37"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
MAX_SUBJECT_TITLE = 180
# compat32 builds a message several times faster than the modern header registry; every header
# value below is either ours, validated at the boundary (addresses, incident id) or flattened to
# one line (the title), so its lack of header validation does not open an injection.
_POLICY = policy.compat32.clone(linesep="\r\n")
_UTF8 = Charset("utf-8")  # headers: base64 encoded-words (QP header encoding is slow in Python)
_UTF8.body_encoding = QP  # bodies: 7-bit clean and still readable raw; no 8BITMIME needed


def root_message_id(incident_id: str, domain: str) -> str:
    """The Message-ID every email of one incident replies to (the `opened` email carries it)."""
    return f"<incident-{incident_id}@{domain}>"


def own_message_id(notification_id: str, incident_id: str, domain: str) -> str:
    return f"<incident-{incident_id}.{notification_id}@{domain}>"


def one_line(text: str, limit: int) -> str:
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def subject_for(*, severity: str, incident_id: str, title: str, event: str) -> str:
    return f"[{severity.upper()}] #{incident_id} {one_line(title, MAX_SUBJECT_TITLE)} — {event}"


def _window(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def allowed_links(fields: dict[str, str]) -> list[str]:
    """The notification's own `url` and the alert links the agent passed along (`links`)."""
    try:
        passed = json.loads(fields.get("links") or "[]")
    except ValueError:
        passed = []
    links = [link for link in passed if isinstance(link, str)] if isinstance(passed, list) else []
    return [fields["url"], *links] if fields.get("url") else links


def acknowledgement(fields: dict[str, str]) -> str | None:
    """"Acknowledged by NAME at TIME" when the incident has been taken (both from /notify)."""
    who = one_line(fields.get("acknowledged_by", ""), 100)
    if not who:
        return None
    when = fields.get("acknowledged_at", "")
    return f"Acknowledged by {who}" + (f" at {when}" if when else "")


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipients: list[str]
    message: bytes
    message_id: str


class EmailComposer:
    def __init__(self, *, sender: str, coalesce_interval: float) -> None:
        self.sender = sender
        self.coalesce_interval = coalesce_interval
        loader = PackageLoader("notifier_service", "templates")
        self._html = Environment(loader=loader, autoescape=True, undefined=StrictUndefined)
        # The text/plain part is never interpreted as markup, so it is not escaped.
        self._text = Environment(  # nosec B701
            loader=loader, autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
        )

    def compose(self, fields: dict[str, str], recipients: list[str], *, now: datetime | None = None) -> Envelope:
        now = now or datetime.now(timezone.utc)
        incident_id, event, severity = fields["incident_id"], fields["event"], fields["severity"]
        subject = subject_for(severity=severity, incident_id=incident_id, title=fields["title"], event=event)
        report = render_report(fields.get("report_markdown", ""), allowed_links=allowed_links(fields))
        context = {
            "subject": subject,
            "severity_label": severity.upper(),
            "severity_color": SEVERITY_COLORS.get(severity, "#57606a"),
            "event_label": event,
            "incident_id": incident_id,
            "title": one_line(fields["title"], 300),
            "summary": fields.get("summary", "").strip(),
            "url": fields.get("url") or None,
            "coalesced_count": int(fields.get("coalesced_count") or 0),
            "coalesce_window": _window(self.coalesce_interval),
            "generated_at": now.strftime("%Y-%m-%d %H:%M UTC"),
            "acknowledgement": acknowledgement(fields),
        }
        text = self._text.get_template("email.txt.j2").render(report_text=report.text.strip(), **context)
        # report.html comes from render_report, which escapes raw HTML and drops unsafe links.
        safe_report = Markup(report.html)  # nosec B704
        html = self._html.get_template("email.html.j2").render(report_html=safe_report, **context)

        msg = MIMEMultipart("alternative", policy=_POLICY)
        message_id = fields["message_id"]
        root = fields["thread_root"]
        headers = {
            "Subject": Header(subject, _UTF8) if not subject.isascii() else subject,
            "From": self.sender,
            "To": ", ".join(recipients),
            "Date": format_datetime(now),
            "Message-ID": message_id,
            "In-Reply-To": root if message_id != root else None,
            "References": root if message_id != root else None,
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "X-Oncall-Incident": incident_id,
            "X-Oncall-Event": event,
            "X-Oncall-Severity": severity,
            "X-Oncall-Notification-Id": fields["id"],
        }
        for name, value in headers.items():
            if value is not None:
                msg[name] = value
        msg.attach(MIMEText(text, "plain", _UTF8))
        msg.attach(MIMEText(html, "html", _UTF8))
        return Envelope(sender=self.sender, recipients=recipients, message=msg.as_bytes(policy=_POLICY), message_id=message_id)

"""What a chat message says, built from a stored notification (pure, shared by every channel).

Everything in it came from outside (alert labels, log lines quoted by the diagnosis), so a URL
in the text stays a link only when its origin is allowed — the notification's `url` and the
alert links the agent passed along, the same allowlist as the email report (report.py); any
other URL is defanged (`hxxp://evil[.]example/…`) so that no chat client turns it into a link.
Each channel still escapes the text for its own markup (Slack mrkdwn, Telegram HTML).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from notifier_service.compose import acknowledgement, allowed_links, one_line
from notifier_service.report import origin

MAX_RECOMMENDATIONS = 3
MAX_SUMMARY = 700  # a chat message is read on a phone; the report is one click away
_URL = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>\"'`|]+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s{0,3}(?:\d{1,3}[.)]|[-*+])\s+(.+)$")
_STEPS = re.compile(r"(?i)recommend|what to do|next steps")
_PID = re.compile(r"^p\d{1,6}$")
SEVERITY_MARK = {"critical": "🔴", "warning": "🟠", "info": "🔵", "ok": "🟢"}


@dataclass(frozen=True)
class ChatMessage:
    notification_id: str
    incident_id: str
    event: str
    severity: str
    title: str
    summary: str
    recommendations: list[str]
    url: str | None
    links: list[str]
    acknowledged_by: str | None
    acknowledged_at: str | None
    coalesced_count: int

    @property
    def headline(self) -> str:
        return f"{SEVERITY_MARK.get(self.severity, '⚪')} {self.severity.upper()} · #{self.incident_id} {self.title}"

    acknowledgement: str | None
    proposals: tuple[tuple[str, str, str], ...] = ()  # (id, summary, risk) awaiting approval

    @property
    def coalesced_note(self) -> str | None:
        return f"{self.coalesced_count + 1} updates combined; this is the latest." if self.coalesced_count else None


def defang(text: str, allowed: frozenset[str]) -> str:
    """URLs towards origins outside `allowed` lose their link form (scheme and dots bracketed)."""

    def fix(match: re.Match[str]) -> str:
        url = match.group(0)
        if origin(url) in allowed:
            return url
        scheme, rest = url.split("://", 1)
        host, sep, path = rest.partition("/")
        return f"{scheme.lower().replace('t', 'x', 2)}[:]//{host.replace('.', '[.]')}{sep}{path}"

    return _URL.sub(fix, text)


def first_recommendations(markdown: str, limit: int = MAX_RECOMMENDATIONS) -> list[str]:
    """The first list items under a "Recommendations" / "What to do first" heading."""
    found: list[str] = []
    inside = False
    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        if heading:
            if found:
                break
            inside = bool(_STEPS.search(heading.group(1)))
            continue
        item = _ITEM.match(line) if inside else None
        if item:
            found.append(item.group(1).strip())
            if len(found) >= limit:
                break
    return found


def chat_message(fields: dict[str, str]) -> ChatMessage:
    links = allowed_links(fields)
    allowed = frozenset(o for o in map(origin, links) if o)
    clean = lambda text, limit: defang(one_line(text, limit), allowed)  # noqa: E731
    summary = fields.get("summary", "").strip()
    return ChatMessage(
        notification_id=fields["id"],
        incident_id=fields["incident_id"],
        event=fields["event"],
        severity=fields["severity"],
        title=clean(fields["title"], 200),
        summary=clean(summary, MAX_SUMMARY) if summary else "",
        recommendations=[clean(r, 300) for r in first_recommendations(fields.get("report_markdown", ""))],
        url=fields.get("url") or None,
        links=[link for link in links if link != fields.get("url")],
        acknowledged_by=one_line(fields.get("acknowledged_by", ""), 100) or None,
        acknowledged_at=fields.get("acknowledged_at") or None,
        coalesced_count=int(fields.get("coalesced_count") or 0),
        acknowledgement=acknowledgement(fields),
        proposals=tuple((p, clean(summary, 300), risk) for p, summary, risk in _proposals(fields)),
    )


def _proposals(fields: dict[str, str]) -> list[tuple[str, str, str]]:
    """The stored pending proposals (JSON; an empty Lua table is `{}`), only well-formed entries."""
    try:
        raw = json.loads(fields.get("proposals") or "[]")
    except ValueError:
        return []
    out = []
    for item in raw if isinstance(raw, list) else []:
        pid = item.get("id") if isinstance(item, dict) else None
        if isinstance(pid, str) and _PID.match(pid) and isinstance(item.get("summary"), str):
            out.append((pid, item["summary"], str(item.get("risk") or "")))
    return out

"""The Telegram bot (pure apart from `TelegramClient`): commands from a chat's messages, the
replies in HTML parse mode with every outside text escaped, and sendMessage.

Commands: `/oncall` (open incidents: severity, status, who has them, the last diagnosis line),
`/incident N`, `/ack N`, `/resolve N`, `/approve N PID`, `/reject N PID` (a remediation proposal), `/help`. `/cmd@BotName` is the same command. Only chats in
TELEGRAM_CHAT_ID are answered; a message from any other chat is ignored (nothing sent).
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from html import escape

import httpx
from pydantic import BaseModel, ConfigDict, Field

from agent_service.incidents.models import Incident
from agent_service.remediation.models import summary

log = logging.getLogger(__name__)
COMMANDS = ("oncall", "incident", "ack", "resolve", "approve", "reject", "help")
PROPOSAL_COMMANDS = ("approve", "reject")
MAX_TEXT = 4000  # Telegram's message limit is 4096 characters
HELP = ("/oncall — open incidents\n/incident N — one incident\n/ack N — take incident N\n"
        "/resolve N — mark incident N RESOLVED\n/approve N PID — approve proposal PID of incident N\n"
        "/reject N PID — reject it")


class TelegramChat(BaseModel):
    id: int


class TelegramUser(BaseModel):
    id: int = 0
    username: str | None = Field(default=None, max_length=200)
    first_name: str | None = Field(default=None, max_length=200)


class TelegramMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    message_id: int = 0
    chat: TelegramChat
    sender: TelegramUser | None = Field(default=None, alias="from")
    text: str | None = Field(default=None, max_length=10_000)


class TelegramUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    update_id: int
    message: TelegramMessage | None = None


@dataclass(frozen=True)
class Command:
    name: str
    incident_id: int | None = None
    error: str | None = None  # a command we know, with a bad or missing argument
    proposal: str | None = None  # /approve, /reject: the proposal's id on the incident (p1, …)


def allowed_chats(setting: str) -> frozenset[int]:
    chats = set()
    for part in setting.split(","):
        part = part.strip()
        if part.lstrip("-").isdigit():
            chats.add(int(part))
    return frozenset(chats)


def secret_matches(expected: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(expected.encode(), sent.encode())


def parse_command(text: str | None) -> Command | None:
    """None: not a command of ours (plain text, another bot's command)."""
    words = (text or "").strip().split()
    if not words or not words[0].startswith("/"):
        return None
    name = words[0][1:].split("@", 1)[0].lower()
    if name not in COMMANDS:
        return Command(name="help", error=f"unknown command /{name[:40]}")
    if name in ("oncall", "help"):
        return Command(name=name)
    arg = words[1].lstrip("#") if len(words) > 1 else ""
    if name in PROPOSAL_COMMANDS:
        pid = words[2].lower() if len(words) > 2 else ""
        if not arg.isdigit() or len(arg) > 12 or not re.fullmatch(r"p\d{1,6}", pid):
            return Command(name=name, error=f"usage: /{name} N PID (an incident number and a proposal, e.g. p1)")
        return Command(name=name, incident_id=int(arg), proposal=pid)
    if not arg.isdigit() or len(arg) > 12:
        return Command(name=name, error=f"usage: /{name} N (an incident number)")
    return Command(name=name, incident_id=int(arg))


def _diagnosis(incident: Incident) -> str:
    report = incident.reports[-1] if incident.reports else None
    text = report.diagnosis if report else incident.summary
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def _owner(incident: Incident) -> str:
    return f"has it: {escape(incident.acknowledged_by)}" if incident.acknowledged_by else "<b>nobody has it</b>"


def oncall_text(incidents: list[Incident]) -> str:
    if not incidents:
        return "No open incidents."
    lines = [f"<b>{len(incidents)} open incident(s)</b>"]
    for incident in incidents:
        lines.append(f"\n#{incident.id} [{escape(incident.severity.upper())}] {incident.status.value} — "
                     f"{escape(incident.title[:200])}\n{_owner(incident)}")
        diagnosis = _diagnosis(incident)
        if diagnosis:
            lines.append(f"<i>{escape(diagnosis)}</i>")
    return _bounded("\n".join(lines))


def incident_text(incident: Incident, *, url: str = "") -> str:
    lines = [
        f"<b>#{incident.id} {escape(incident.title[:200])}</b>",
        f"{escape(incident.severity)} · {incident.status.value} · {_owner(incident)}",
        f"opened {incident.created_at:%Y-%m-%d %H:%M} UTC",
    ]
    diagnosis = _diagnosis(incident)
    if diagnosis:
        lines.append(escape(diagnosis))
    report = incident.reports[-1] if incident.reports else None
    for recommendation in (report.recommendations[:3] if report else []):
        lines.append(f"• {escape(recommendation[:200])}")
    for record in [r for r in incident.proposals if r.state == "pending"][:5]:
        lines.append(f"▶ {record.id} {escape(summary(record.proposal)[:200])} — /approve {incident.id} {record.id}")
    if url:
        lines.append(f'<a href="{escape(url, quote=True)}">details</a>')
    return _bounded("\n".join(lines))


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT].rsplit("\n", 1)[0] + "\n…"


class TelegramClient:
    """sendMessage at TELEGRAM_API_URL/bot<TOKEN>/sendMessage (HTML parse mode)."""

    def __init__(self, http: httpx.AsyncClient, *, api_url: str, token: str) -> None:
        self.http = http
        self.url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"

    async def send(self, chat_id: int, text: str) -> bool:
        body = {"chat_id": chat_id, "text": text, "parse_mode": "HTML", "disable_web_page_preview": True}
        try:
            response = await self.http.post(self.url, json=body)
        except httpx.HTTPError as exc:
            log.warning("telegram sendMessage failed: %s", type(exc).__name__)
            return False
        if response.status_code != 200:
            log.warning("telegram sendMessage answered %s", response.status_code)
        return response.status_code == 200

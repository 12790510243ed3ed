"""Microsoft Teams: an Adaptive Card (schema 1.4) posted to a Workflows webhook ("Post to a
channel when a webhook request is received"), which answers 202 when it takes the message."""

from __future__ import annotations

from typing import Any

from notifier_service.channels.http import HttpSender, post
from notifier_service.channels.message import ChatMessage, chat_message
from notifier_service.delivery import BeforeSend
from notifier_service.store import Stored

CARD_VERSION = "1.4"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
COLOR = {"critical": "Attention", "warning": "Warning", "info": "Accent", "ok": "Good"}


def card(msg: ChatMessage) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": msg.headline, "size": "Large", "weight": "Bolder", "wrap": True,
         "color": COLOR.get(msg.severity, "Default")},
        {"type": "FactSet", "facts": [
            {"title": "Event", "value": msg.event},
            {"title": "Severity", "value": msg.severity},
            {"title": "Incident", "value": f"#{msg.incident_id}"},
            *([{"title": "Acknowledged", "value": msg.acknowledgement.removeprefix("Acknowledged ")}]
              if msg.acknowledgement else []),
        ]},
    ]
    if msg.summary:
        body.append({"type": "TextBlock", "text": msg.summary, "wrap": True})
    if msg.recommendations:
        body.append({"type": "TextBlock", "text": "First steps", "weight": "Bolder", "wrap": True})
        body += [{"type": "TextBlock", "text": f"{i}. {r}", "wrap": True, "spacing": "Small"}
                 for i, r in enumerate(msg.recommendations, 1)]
    if msg.coalesced_note:
        body.append({"type": "TextBlock", "text": msg.coalesced_note, "isSubtle": True, "wrap": True})
    content: dict[str, Any] = {"$schema": CARD_SCHEMA, "type": "AdaptiveCard", "version": CARD_VERSION, "body": body}
    if msg.url:
        content["actions"] = [{"type": "Action.OpenUrl", "title": "Open incident", "url": msg.url}]
    return content


def payload(msg: ChatMessage) -> dict[str, Any]:
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card(msg)},
    ]}


class TeamsSender(HttpSender):
    def __init__(self, *, url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.url = url

    async def deliver(self, item: Stored, *, before_send: BeforeSend) -> str:
        await post(self.client, "teams", self.url, json=payload(chat_message(item.fields)), before_send=before_send)
        return ""

"""Telegram: Bot API `sendMessage` in HTML parse mode; every piece of text is HTML-escaped, the
only tags are ours (<b>, <i>, <a> to an allowed URL). Link previews are off."""

from __future__ import annotations

import html
from typing import Any

from notifier_service.channels.http import HttpSender, post
from notifier_service.channels.message import ChatMessage, chat_message
from notifier_service.delivery import BeforeSend, DeliveryError
from notifier_service.store import Stored

MAX_TEXT = 4096


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def text(msg: ChatMessage) -> str:
    lines = [f"<b>{_e(msg.headline)}</b>", f"<i>{_e(msg.event)}</i> · incident #{_e(msg.incident_id)}"]
    if msg.acknowledgement:
        lines.append(_e(msg.acknowledgement))
    if msg.summary:
        lines += ["", _e(msg.summary)]
    if msg.recommendations:
        lines += ["", "<b>First steps</b>", *(f"{i}. {_e(r)}" for i, r in enumerate(msg.recommendations, 1))]
    if msg.coalesced_note:
        lines += ["", f"<i>{_e(msg.coalesced_note)}</i>"]
    if msg.url:
        lines += ["", f'<a href="{_e(msg.url)}">Open incident #{_e(msg.incident_id)}</a>']
    out = "\n".join(lines)
    return out if len(out) <= MAX_TEXT else "\n".join(lines[:2]) + "\n\n(message too long; open the incident)"


def parameters(msg: ChatMessage, chat_id: str) -> dict[str, Any]:
    return {"chat_id": chat_id, "text": text(msg), "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True}}


class TelegramSender(HttpSender):
    def __init__(self, *, api_url: str, token: str, chat_id: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"
        self.chat_id = chat_id

    async def deliver(self, item: Stored, *, before_send: BeforeSend) -> str:
        response = await post(self.client, "telegram", self.url, json=parameters(chat_message(item.fields), self.chat_id),
                              before_send=before_send)
        try:
            ok = bool(response.json().get("ok"))
        except ValueError:
            ok = False
        if not ok:
            raise DeliveryError("telegram: sendMessage answered without ok", permanent=False)
        return ""

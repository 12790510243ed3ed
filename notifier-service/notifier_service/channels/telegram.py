"""Telegram: Bot API `sendMessage` in HTML parse mode; every piece of text is HTML-escaped, the
only tags are ours (<b>, <i>, <a> to an allowed URL). Link previews are off. Later messages of an
incident reply to its first one (`reply_parameters`, threads.py)."""

from __future__ import annotations

import html
from typing import Any

from notifier_service.channels.http import HttpSender, post
from notifier_service.channels.message import ChatMessage, chat_message
from notifier_service.channels.threads import Threads
from notifier_service.delivery import BeforeSend, DeliveryError
from notifier_service.store import NotificationStore, Stored

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
    if msg.proposals and msg.event != "resolved":
        lines += ["", "<b>Proposed</b>"] + [
            f"{_e(pid)} {_e(summary)}" + (f" · risk {_e(risk)}" if risk else "")
            + f" — /approve {_e(msg.incident_id)} {_e(pid)} · /reject {_e(msg.incident_id)} {_e(pid)}"
            for pid, summary, risk in msg.proposals]
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
    def __init__(self, *, api_url: str, token: str, chat_id: str, store: NotificationStore, timeout: float,
                 retention: int) -> None:
        super().__init__(timeout=timeout)
        self.url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"
        self.chat_id = chat_id
        self.threads = Threads(store, channel="telegram", retention=retention)

    async def deliver(self, item: Stored, *, before_send: BeforeSend) -> str:
        msg = chat_message(item.fields)
        body = parameters(msg, self.chat_id)
        parent = await self.threads.parent(msg.incident_id, msg.event)
        if parent:
            body["reply_parameters"] = {"message_id": int(parent), "allow_sending_without_reply": True}
        response = await post(self.client, "telegram", self.url, json=body, before_send=before_send)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict) or not answer.get("ok"):
            raise DeliveryError("telegram: sendMessage answered without ok", permanent=False)
        message_id = (answer.get("result") or {}).get("message_id")
        if not parent and isinstance(message_id, int):
            await self.threads.started(msg.incident_id, str(message_id))
        return ""

"""Slack: Block Kit messages by incoming webhook, or by the Web API into the incident's thread.

Buttons carry `action_id` `ack` | `mitigated` | `resolved` and `value` = the incident id; the
agent-service's `POST /integrations/slack/actions` acts on them. The link button (`open`)
only opens the incident. Slack's mrkdwn is escaped (`&`, `<`, `>`), so nothing from outside
becomes a link, a mention or a channel ping.
"""

from __future__ import annotations

from typing import Any

from oncall_common.slack_proposals import proposal_blocks

from notifier_service.channels.http import HttpSender, post
from notifier_service.channels.message import ChatMessage, chat_message
from notifier_service.channels.threads import Threads
from notifier_service.delivery import BeforeSend, DeliveryError
from notifier_service.store import NotificationStore, Stored

ACTIONS = (("ack", "Acknowledge", "primary"), ("mitigated", "Mitigated", None), ("resolved", "Resolved", None))
# Web API errors worth retrying; any other `ok: false` is permanent (bad token, unknown channel…).
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
MAX_TEXT = 2900  # a section's text is at most 3000 characters


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_TEXT]}}


def blocks(msg: ChatMessage) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": msg.headline[:150], "emoji": True}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{msg.event}* · incident #{msg.incident_id}"}]},
    ]
    if msg.summary:
        out.append(_section(escape(msg.summary)))
    if msg.recommendations:
        steps = "\n".join(f"{i}. {escape(r)}" for i, r in enumerate(msg.recommendations, 1))
        out.append(_section(f"*First steps*\n{steps}"))
    notes = [n for n in (msg.acknowledgement, msg.coalesced_note) if n]
    if notes:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(n)} for n in notes]})
    buttons: list[dict[str, Any]] = []
    if msg.event != "resolved":
        for action_id, label, style in ACTIONS:
            if action_id == msg.event:  # a `mitigated` message offers no "Mitigated" again
                continue
            button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": msg.incident_id,
                                      "text": {"type": "plain_text", "text": label}}
            if style:
                button["style"] = style
            buttons.append(button)
    if msg.url:
        buttons.append({"type": "button", "action_id": "open", "url": msg.url,
                        "text": {"type": "plain_text", "text": "Open incident"}})
    if buttons:
        out.append({"type": "actions", "block_id": f"incident-{msg.incident_id}", "elements": buttons})
    if msg.event != "resolved":
        out += proposal_blocks(msg.incident_id, ((pid, escape(text), risk) for pid, text, risk in msg.proposals))
    return out




def payload(msg: ChatMessage) -> dict[str, Any]:
    """The JSON of an incoming-webhook post; `text` is the notification fallback."""
    return {"text": escape(f"{msg.headline} — {msg.event}"), "blocks": blocks(msg)}


class SlackWebhookSender(HttpSender):
    def __init__(self, *, url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.url = url

    async def deliver(self, item: Stored, *, before_send: BeforeSend) -> str:
        await post(self.client, "slack", self.url, json=payload(chat_message(item.fields)), before_send=before_send)
        return ""


class SlackApiSender(HttpSender):
    """chat.postMessage; the first message of an incident starts its thread (threads.py), later
    ones go into the thread, status changes also to the channel (`reply_broadcast`)."""

    def __init__(self, *, api_url: str, token: str, channel: str, store: NotificationStore,
                 timeout: float, retention: int) -> None:
        super().__init__(timeout=timeout)
        self.url = api_url.rstrip("/") + "/chat.postMessage"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.channel = channel
        self.threads = Threads(store, channel="slack", retention=retention)

    async def deliver(self, item: Stored, *, before_send: BeforeSend) -> str:
        msg = chat_message(item.fields)
        body: dict[str, Any] = {"channel": self.channel, **payload(msg), "unfurl_links": False}
        thread_ts = await self.threads.parent(msg.incident_id, msg.event)
        if thread_ts:
            body["thread_ts"] = thread_ts
            body["reply_broadcast"] = msg.event not in ("updated", "report")
        response = await post(self.client, "slack", self.url, json=body, headers=self.headers, before_send=before_send)
        answer = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if not answer.get("ok"):
            error = str(answer.get("error") or "no ok in the answer")[:200]
            raise DeliveryError(f"slack: chat.postMessage: {error}", permanent=error not in TRANSIENT_ERRORS)
        if not thread_ts and answer.get("ts"):
            await self.threads.started(msg.incident_id, str(answer["ts"]))
        return ""

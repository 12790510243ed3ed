"""Generic webhooks: one signed JSON document per notification (docs/channels.md).

`X-Oncall-Timestamp` is the unix time of the attempt; `X-Oncall-Signature` is
`sha256=` + hex HMAC-SHA256 with WEBHOOK_SECRET over `<timestamp>.<body bytes>`. A receiver
recomputes it over the raw body, compares in constant time and refuses old timestamps;
`Idempotency-Key` (the notification id) is the same on every retry of one notification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from notifier_service.channels.http import HttpSender, post
from notifier_service.channels.message import ChatMessage, chat_message
from notifier_service.delivery import BeforeSend
from notifier_service.store import Stored

VERSION = "1"


def document(msg: ChatMessage) -> dict[str, Any]:
    return {
        "version": VERSION, "notification_id": msg.notification_id, "incident_id": msg.incident_id,
        "event": msg.event, "severity": msg.severity, "title": msg.title, "summary": msg.summary,
        "recommendations": msg.recommendations, "url": msg.url, "links": msg.links,
        "acknowledged_by": msg.acknowledged_by, "acknowledged_at": msg.acknowledged_at,
        "coalesced_count": msg.coalesced_count,
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, body: bytes, notification_id: str, *, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {"Content-Type": "application/json", "X-Oncall-Timestamp": timestamp,
            "X-Oncall-Signature": signature(secret, timestamp, body), "Idempotency-Key": notification_id,
            "User-Agent": "oncall-copilot-notifier"}


class WebhookSender(HttpSender):
    def __init__(self, *, name: str, url: str, secret: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.name = name
        self.url = url
        self.secret = secret

    async def deliver(self, item: Stored, *, before_send: BeforeSend) -> str:
        body = json.dumps(document(chat_message(item.fields)), separators=(",", ":"), ensure_ascii=False).encode()
        await post(self.client, self.name, self.url, content=body,
                   headers=signed_headers(self.secret, body, item.id), before_send=before_send)
        return ""

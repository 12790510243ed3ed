"""Fake chat APIs on loopback (FastAPI under uvicorn): a Slack incoming webhook and Web API
(`chat.postMessage`), a Teams Workflows webhook, the Telegram Bot API (`sendMessage`) and a
generic webhook receiver. The notifier reaches them through SLACK_WEBHOOK_URL / SLACK_API_URL,
TEAMS_WEBHOOK_URL, TELEGRAM_API_URL and WEBHOOK_URLS.

Each one checks the request the way the real service would and answers 400 (as the real ones
do) when the shape is wrong: Block Kit limits (header ≤ 150 plain_text, section text ≤ 3000,
≤ 50 blocks, unique action ids, button values), the Adaptive Card envelope and schema version,
Telegram's parameters (chat_id, parse_mode HTML with only the tags Telegram allows), the bot token,
and the webhook signature over timestamp + "." + body. A channel can be put `down` (503) or
`ratelimited` (429 + Retry-After), made to `hang` (counted in `seen`, answered only once the mode
changes) and back `up`; every accepted message is recorded once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html.parser
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from tests.support.servers import serve_app

SLACK_TOKEN = "xoxb-test-token"
TELEGRAM_TOKEN = "123456:test-telegram-token"
WEBHOOK_SECRET = "test-webhook-secret-0123456789"
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote",
                 "span", "tg-spoiler"}
_ts = itertools.count(1)


@dataclass
class Received:
    channel: str  # slack-webhook | slack-api | teams | telegram | webhook
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ChatApis:
    mode: dict[str, str] = field(default_factory=dict)  # channel → up | down | ratelimited
    received: list[Received] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (channel, why) of requests answered 4xx/5xx
    seen: dict[str, int] = field(default_factory=dict)  # channel → requests received, whatever the answer
    telegram_ids: list[int] = field(default_factory=list)  # message_id of each accepted Telegram message, in order
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def set(self, channel: str, mode: str) -> None:
        with self.lock:
            self.mode[channel] = mode

    def messages(self, channel: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received if channel is None or r.channel == channel]

    def _mode(self, channel: str) -> str:
        with self.lock:
            return self.mode.get(channel, "up")

    async def _gate(self, channel: str) -> Response | None:
        with self.lock:
            self.seen[channel] = self.seen.get(channel, 0) + 1
        mode = self._mode(channel)
        while mode == "hang":
            await asyncio.sleep(0.02)
            if (mode := self._mode(channel)) != "hang":
                return PlainTextResponse("released", status_code=503)
        if mode == "down":
            self._refuse(channel, "down")
            return PlainTextResponse("service unavailable", status_code=503)
        if mode == "ratelimited":
            self._refuse(channel, "ratelimited")
            return PlainTextResponse("rate limited", status_code=429, headers={"Retry-After": "0"})
        return None

    def _refuse(self, channel: str, why: str) -> None:
        with self.lock:
            self.refused.append((channel, why))

    def _record(self, channel: str, request: Request, body: bytes) -> None:
        with self.lock:
            self.received.append(Received(channel, request.url.path, dict(request.headers), body))

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/slack/webhook/{path:path}")
        async def slack_webhook(request: Request) -> Response:
            body = await request.body()
            if (gate := await self._gate("slack")) is not None:
                return gate
            problem = slack_problem(_json(body))
            if problem:
                self._refuse("slack", problem)
                return PlainTextResponse("invalid_blocks", status_code=400)
            self._record("slack-webhook", request, body)
            return PlainTextResponse("ok")

        @app.post("/slack/api/chat.postMessage")
        async def slack_api(request: Request) -> Response:
            body = await request.body()
            if (gate := await self._gate("slack")) is not None:
                return gate
            if request.headers.get("authorization") != f"Bearer {SLACK_TOKEN}":
                return JSONResponse({"ok": False, "error": "invalid_auth"})
            data = _json(body)
            problem = slack_problem(data) or ("" if isinstance(data, dict) and data.get("channel") else "no channel")
            if problem:
                self._refuse("slack", problem)
                return JSONResponse({"ok": False, "error": "invalid_blocks"})
            self._record("slack-api", request, body)
            ts = f"1700000000.{next(_ts):06d}"
            return JSONResponse({"ok": True, "channel": "C0ONCALL", "ts": ts, "message": {"ts": ts}})

        @app.post("/teams/webhook")
        async def teams(request: Request) -> Response:
            body = await request.body()
            if (gate := await self._gate("teams")) is not None:
                return gate
            problem = teams_problem(_json(body))
            if problem:
                self._refuse("teams", problem)
                return JSONResponse({"error": {"code": "TriggerInputSchemaMismatch", "message": problem}}, status_code=400)
            self._record("teams", request, body)
            return Response(status_code=202)

        @app.post("/telegram/bot{token}/sendMessage")
        async def telegram(token: str, request: Request) -> Response:
            body = await request.body()
            if (gate := await self._gate("telegram")) is not None:
                return gate
            if token != TELEGRAM_TOKEN:
                return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
            problem = telegram_problem(_json(body))
            if problem:
                self._refuse("telegram", problem)
                return JSONResponse({"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"},
                                    status_code=400)
            reply = (_json(body) or {}).get("reply_parameters")
            if reply is not None and not (isinstance(reply, dict) and reply.get("message_id") in self.telegram_ids):
                self._refuse("telegram", "reply to an unknown message")
                return JSONResponse({"ok": False, "error_code": 400,
                                     "description": "Bad Request: message to be replied not found"}, status_code=400)
            self._record("telegram", request, body)
            message_id = next(_ts)
            with self.lock:
                self.telegram_ids.append(message_id)
            return JSONResponse({"ok": True, "result": {"message_id": message_id, "chat": {"id": -100123}}})

        @app.post("/hooks/{name}")
        async def hook(name: str, request: Request) -> Response:
            body = await request.body()
            if (gate := await self._gate("webhook")) is not None:
                return gate
            problem = signature_problem(request.headers, body)
            if problem:
                self._refuse("webhook", problem)
                return PlainTextResponse(problem, status_code=401)
            self._record("webhook", request, body)
            return Response(status_code=204)

        return app


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def slack_problem(data: Any) -> str:
    """Block Kit checks that the real Slack applies (an empty string when the message is valid)."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str) or not isinstance(data.get("blocks"), list):
        return "text and blocks required"
    blocks = data["blocks"]
    if not 0 < len(blocks) <= 50:
        return "1 to 50 blocks"
    action_ids: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            text = block.get("text", {})
            if text.get("type") != "plain_text" or not 0 < len(text.get("text", "")) <= 150:
                return "header: plain_text of 1-150 characters"
        elif kind == "section":
            text = block.get("text", {})
            if text.get("type") not in ("mrkdwn", "plain_text") or not 0 < len(text.get("text", "")) <= 3000:
                return "section text: 1-3000 characters"
        elif kind == "context":
            if not 0 < len(block.get("elements", [])) <= 10:
                return "context: 1-10 elements"
        elif kind == "actions":
            elements = block.get("elements", [])
            if not 0 < len(elements) <= 25:
                return "actions: 1-25 elements"
            for el in elements:
                if el.get("type") != "button" or el.get("text", {}).get("type") != "plain_text":
                    return "actions: buttons with plain_text"
                if not 0 < len(el.get("text", {}).get("text", "")) <= 75 or len(el.get("value", "")) > 2000:
                    return "button text 1-75, value <= 2000"
                if el.get("style") not in (None, "primary", "danger"):
                    return "button style"
                action_ids.append(el.get("action_id", ""))
        else:
            return f"unexpected block type {kind!r}"
    if len(action_ids) != len(set(action_ids)) or not all(0 < len(a) <= 255 for a in action_ids):
        return "action_id: unique, 1-255 characters"
    return ""


def teams_problem(data: Any) -> str:
    if not isinstance(data, dict) or data.get("type") != "message":
        return "type must be message"
    attachments = data.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        return "one attachment"
    att = attachments[0]
    if att.get("contentType") != "application/vnd.microsoft.card.adaptive":
        return "contentType"
    card = att.get("content") or {}
    if card.get("type") != "AdaptiveCard" or card.get("$schema") != "http://adaptivecards.io/schemas/adaptive-card.json":
        return "AdaptiveCard with $schema"
    if card.get("version") not in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5"):
        return "card version Teams renders"
    for item in card.get("body", []):
        if item.get("type") not in ("TextBlock", "FactSet") or (item["type"] == "TextBlock" and not item.get("text")):
            return "body: TextBlock with text, FactSet"
    for action in card.get("actions", []):
        if action.get("type") != "Action.OpenUrl" or not str(action.get("url", "")).startswith(("http://", "https://")):
            return "actions: Action.OpenUrl with an http(s) url"
    return ""


class _TagCheck(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS or (tag == "a" and [k for k, _ in attrs] != ["href"]):
            self.bad.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def telegram_problem(data: Any) -> str:
    if not isinstance(data, dict) or not data.get("chat_id") or not isinstance(data.get("text"), str):
        return "chat_id and text required"
    if data.get("parse_mode") != "HTML":
        return "parse_mode"
    check = _TagCheck()
    check.feed(data["text"])
    check.close()
    if check.bad:
        return f"can't parse entities: unsupported tag {check.bad[0]}"
    if not 0 < len("".join(check.text)) <= 4096:
        return "message text is empty or too long"
    return ""


def telegram_text(data: dict[str, Any]) -> str:
    """What the Telegram client shows: the text with the HTML tags taken out, entities decoded."""
    check = _TagCheck()
    check.feed(data["text"])
    check.close()
    return "".join(check.text)


def signature_problem(headers: Any, body: bytes) -> str:
    timestamp, signature = headers.get("x-oncall-timestamp", ""), headers.get("x-oncall-signature", "")
    if not timestamp.isdigit() or not signature.startswith("sha256="):
        return "missing X-Oncall-Timestamp / X-Oncall-Signature"
    expected = hmac.new(WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.removeprefix("sha256="), expected):
        return "bad signature"
    return ""


@contextmanager
def chat_apis() -> Iterator[ChatApis]:
    fake = ChatApis()
    with serve_app(fake.app()) as url:
        fake.url = url
        yield fake


def channel_env(url: str) -> dict[str, str]:
    """Settings (as environment names, lower case) pointing every channel at the fake."""
    return {
        "slack_webhook_url": f"{url}/slack/webhook/T000/B000/secretpath",
        "teams_webhook_url": f"{url}/teams/webhook",
        "telegram_bot_token": TELEGRAM_TOKEN, "telegram_chat_id": "-100123", "telegram_api_url": f"{url}/telegram",
        "webhook_urls": f"{url}/hooks/one", "webhook_secret": WEBHOOK_SECRET,
    }

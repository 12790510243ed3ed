"""A fake Telegram Bot API (`POST /bot<token>/sendMessage`) on loopback: checks the token in the
path and the parameters the agent sends (chat_id integer, text 1-4096 characters, parse_mode
HTML, and that the text is valid for HTML parse mode: only Telegram's tags, `&` `<` `>` escaped
elsewhere), answers like Telegram (`{"ok": true, "result": Message}` or 400 `{"ok": false, ...}`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.servers import serve_app

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                "blockquote", "span"}
_BARE_AMP = re.compile(r"&(?!(amp|lt|gt|quot|#\d+|#x[0-9A-Fa-f]+);)")  # Telegram: all numerical entities


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problem: str | None = None
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problem = f"Unsupported start tag \"{tag}\""
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problem = f"Unmatched end tag \"{tag}\""


def html_problem(text: str) -> str | None:
    if _BARE_AMP.search(text):
        return "Unsupported entity"
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.open:
        return f"Unclosed tag \"{checker.open[-1]}\""
    return checker.problem


class TelegramBotApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.sent: list[dict[str, Any]] = []
        self.app = FastAPI()
        self.url = ""

        @self.app.post("/bot{token}/sendMessage")
        async def send_message(token: str, request: Request) -> JSONResponse:
            if token != self.token:
                return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
            body = await request.json()
            text = body.get("text")
            if not isinstance(body.get("chat_id"), int) or not isinstance(text, str) or not 1 <= len(text) <= 4096:
                return self._bad("Bad Request: chat_id or text")
            if body.get("parse_mode") != "HTML":
                return self._bad("Bad Request: expected parse_mode HTML")
            problem = html_problem(text)
            if problem:
                return self._bad(f"Bad Request: can't parse entities: {problem}")
            self.sent.append(body)
            return JSONResponse({"ok": True, "result": {"message_id": len(self.sent), "chat": {"id": body["chat_id"]},
                                                        "text": text, "date": 0}})

    @staticmethod
    def _bad(description: str) -> JSONResponse:
        return JSONResponse({"ok": False, "error_code": 400, "description": description}, status_code=400)


@contextmanager
def running_telegram_api(token: str) -> Iterator[TelegramBotApi]:
    fake = TelegramBotApi(token)
    with serve_app(fake.app) as url:
        fake.url = url
        yield fake


def update(chat_id: int, text: str, *, username: str = "bob", update_id: int = 1) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1700000000, "text": text,
        "chat": {"id": chat_id, "type": "group", "title": "oncall"},
        "from": {"id": 42, "is_bot": False, "first_name": "Bob", "username": username}}}

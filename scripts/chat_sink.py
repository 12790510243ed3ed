"""A local stand-in for Slack's incoming webhook and Telegram's Bot API, for `make demo`: it takes
what the notifier would send to the real services (uvicorn in a thread on loopback), keeps it and
prints it the way the on-call engineer would read it."""

from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from local_stack import free_port

TELEGRAM_TOKEN = "0000:demo-token"
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>')
_TAG = re.compile(r"</?(?:b|i)>")


@dataclass
class ChatSink:
    port: int = field(default_factory=free_port)
    slack: list[dict[str, Any]] = field(default_factory=list)
    telegram: list[dict[str, Any]] = field(default_factory=list)
    _server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"SLACK_WEBHOOK_URL": f"{self.url}/slack/services/T0/B0/demo", "TELEGRAM_API_URL": f"{self.url}/telegram",
                "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_CHAT_ID": "-1001234567890"}

    def start(self) -> ChatSink:
        app = FastAPI()

        @app.post("/slack/services/{path:path}")
        async def slack(request: Request) -> PlainTextResponse:
            self.slack.append(await request.json())
            return PlainTextResponse("ok")

        @app.post("/telegram/bot{token}/sendMessage")
        async def telegram(token: str, request: Request) -> JSONResponse:
            self.telegram.append(await request.json())
            return JSONResponse({"ok": True, "result": {"message_id": len(self.telegram)}})

        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, name="chat-sink", daemon=True).start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("the chat sink did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


def slack_as_text(message: dict[str, Any]) -> list[str]:
    """Block Kit as a reader sees it: header, sections, context lines, then the buttons."""
    lines: list[str] = []
    for block in message.get("blocks", []):
        kind = block.get("type")
        if kind in ("header", "section"):
            lines += [html.unescape(block["text"]["text"]), ""]
        elif kind == "context":
            lines += [html.unescape(e.get("text", "")) for e in block["elements"]] + [""]
        elif kind == "actions":
            lines.append("  ".join(
                f"[{b['text']['text']}" + (f" -> {b['url']}]" if "url" in b else f"  action_id={b['action_id']} value={b['value']}]")
                for b in block["elements"]))
    return lines


def telegram_as_text(parameters: dict[str, Any]) -> list[str]:
    """The HTML text as Telegram shows it (links as `text <url>`)."""
    shown = _TAG.sub("", _LINK.sub(r"\2 <\1>", parameters.get("text", "")))
    return [f"(chat_id {parameters.get('chat_id')}, parse_mode {parameters.get('parse_mode')})", *html.unescape(shown).splitlines()]

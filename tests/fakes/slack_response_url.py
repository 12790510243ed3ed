"""A fake of Slack's `response_url` (where an app replaces the message a button was pressed in),
served on loopback. Checks the shape Slack accepts — a JSON object with `text` and, when
`replace_original` is true, `blocks` of known types — and answers 400 otherwise, like Slack's
`invalid_blocks`; records every valid body. Also signs interaction requests the way Slack does."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from tests.support.servers import serve_app

BLOCK_TYPES = {"section", "context", "actions", "divider", "header"}


def _problem(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        return "no_text"
    if not isinstance(body.get("replace_original", False), bool):
        return "invalid_replace_original"  # Slack wants a JSON boolean
    for block in body.get("blocks", []):
        if block.get("type") not in BLOCK_TYPES:
            return "invalid_blocks"
        if block["type"] == "actions":
            for element in block.get("elements", []):
                if element.get("type") != "button" or not element.get("action_id") or \
                        element.get("text", {}).get("type") != "plain_text":
                    return "invalid_blocks"
    return None


class SlackResponseUrl:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.app = FastAPI()
        self.url = ""

        @self.app.post("/actions/{team}/{hook}/{token}")
        async def respond(team: str, hook: str, token: str, request: Request) -> Any:
            if request.headers.get("content-type", "").split(";")[0] != "application/json":
                return PlainTextResponse("invalid_payload", status_code=400)
            body = json.loads(await request.body())
            problem = _problem(body)
            if problem:
                return PlainTextResponse(problem, status_code=400)
            self.received.append(body)
            self.paths.append(request.url.path)
            return JSONResponse({"ok": True})

    def response_url(self, name: str = "T1/B1/tok") -> str:
        return f"{self.url}/actions/{name}"


@contextmanager
def running_slack_response_url() -> Iterator[SlackResponseUrl]:
    fake = SlackResponseUrl()
    with serve_app(fake.app) as url:
        fake.url = url
        yield fake


def block_actions(incident_id: int | str, action_id: str, *, response_url: str, username: str = "alice") -> dict[str, Any]:
    """A block_actions interaction as Slack sends it (the fields we read, plus some we do not)."""
    return {
        "type": "block_actions",
        "user": {"id": "U123", "username": username, "name": username, "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C1"},
        "trigger_id": "1.2.3",
        "team": {"id": "T1", "domain": "example"},
        "channel": {"id": "C1", "name": "oncall"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "b1", "type": "button", "value": str(incident_id),
                     "text": {"type": "plain_text", "text": action_id}, "action_ts": "1700000001.000200"}],
    }


def signed(secret: str, payload: dict[str, Any], *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The form-encoded body and the headers Slack sends with it (signature v0)."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                  "X-Slack-Signature": f"v0={digest}"}

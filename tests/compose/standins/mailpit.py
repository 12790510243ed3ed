#!/usr/bin/python3
"""Stand-in for Mailpit (axllent/mailpit) in the compose test: an SMTP server without AUTH on
:1025 that keeps every message in memory, and the subset of Mailpit's HTTP API on :8025 that
tests/compose reads:
  GET /readyz, /livez                 -> 200
  GET /api/v1/messages                -> {"total", "count", "messages": [{"ID", "MessageID", "From",
                                          "To", "Subject", "Created", "Size"}]} newest first
  GET /api/v1/message/{ID}            -> the same fields plus "Text" and "HTML"
`mailpit readyz` exits 0 when the HTTP side answers (Mailpit's own healthcheck command).
"""

from __future__ import annotations

import email
import email.policy
import json
import signal
import sys
import threading
import urllib.request
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import getaddresses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

HTTP_PORT = 8025
SMTP_PORT = 1025
MESSAGES: list[dict[str, Any]] = []
LOCK = threading.Lock()


def addresses(value: str | None) -> list[dict[str, str]]:
    return [{"Name": name, "Address": address} for name, address in getaddresses([value or ""]) if address]


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""


class Inbox:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        record = {
            "ID": uuid.uuid4().hex, "MessageID": str(message.get("Message-ID", "")).strip("<>"),
            "From": (addresses(str(message.get("From", ""))) or [{"Name": "", "Address": envelope.mail_from}])[0],
            "To": [{"Name": "", "Address": rcpt} for rcpt in envelope.rcpt_tos],
            "Subject": str(message.get("Subject", "")), "Size": len(raw),
            "Created": datetime.now(timezone.utc).isoformat(),
            "Text": body(message, "plain"), "HTML": body(message, "html"),  # type: ignore[arg-type]
        }
        with LOCK:
            MESSAGES.insert(0, record)
        return "250 2.0.0 Ok: queued"


SUMMARY = ("ID", "MessageID", "From", "To", "Subject", "Created", "Size")


class Api(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0]
        with LOCK:
            messages = list(MESSAGES)
        if path in ("/readyz", "/livez"):
            self.reply(200, {"status": "ok"})
        elif path == "/api/v1/messages":
            summaries = [{key: m[key] for key in SUMMARY} for m in messages]
            self.reply(200, {"total": len(messages), "count": len(messages), "messages": summaries})
        elif path.startswith("/api/v1/message/"):
            wanted = path.rsplit("/", 1)[1]
            found = [m for m in messages if m["ID"] == wanted or (wanted == "latest" and m is messages[0])]
            self.reply(200, found[0]) if found else self.reply(404, {"error": "message not found"})
        else:
            self.reply(404, {"error": "not in the stand-in"})

    def reply(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


def readyz() -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/readyz", timeout=2) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


def main() -> int:
    if sys.argv[1:2] == ["readyz"]:
        return readyz()
    controller = Controller(Inbox(), hostname="0.0.0.0", port=SMTP_PORT)  # noqa: S104 (inside the container)
    controller.start()
    server = ThreadingHTTPServer(("0.0.0.0", HTTP_PORT), Api)  # noqa: S104
    # PID 1 in a container: SIGTERM (docker stop) has no default action unless handled
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"mailpit stand-in: SMTP :{SMTP_PORT}, HTTP :{HTTP_PORT}", flush=True)
    try:
        server.serve_forever()
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

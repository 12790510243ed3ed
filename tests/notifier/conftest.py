"""A real SMTP server (aiosmtpd) on loopback whose behaviour a test can change, and helpers."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from notifier_service.settings import Settings
from tests.support.net import free_port

TOKEN = "test-notifier-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return body.get_content().replace("\r\n", "\n")


@dataclass
class SinkHandler:
    """aiosmtpd handler: records accepted messages; `mode` makes it misbehave on purpose."""

    received: list[Received] = field(default_factory=list)
    mode: str = "accept"  # accept | reject | tempfail | hang_rcpt | hang_data
    released: threading.Event = field(default_factory=threading.Event)
    data_seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if self.mode == "hang_rcpt":
            await self._hang()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_seen += 1
        if self.mode == "reject":
            return "550 5.7.1 Message rejected by policy"
        if self.mode == "tempfail":
            return "451 4.3.0 Try again later"
        if self.mode == "hang_data":
            await self._hang()
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 2.0.0 Queued"

    async def _hang(self) -> None:
        while not self.released.is_set():
            await asyncio.sleep(0.02)

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)


class SmtpSink:
    def __init__(self, port: int | None = None, **controller_kwargs: Any) -> None:
        self.port = port or free_port()
        self.handler = SinkHandler()
        self.controller_kwargs = controller_kwargs
        self.controller: Controller | None = None

    def start(self) -> SmtpSink:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.controller_kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        self.handler.released.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[Received]:
        return self.handler.messages()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


def fast_settings(redis_url: str, smtp_port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        redis_url=redis_url,
        smtp_port=smtp_port,
        email_from="copilot@oncall.example",
        email_to="oncall@example.com",
        notifier_token=TOKEN,
        poll_interval_seconds=0.05,
        backoff_base_seconds=0.05,
        backoff_max_seconds=0.2,
        coalesce_interval_seconds=1.0,
        smtp_timeout_seconds=2.0,
        smtp_send_timeout_seconds=3.0,
        lease_margin_seconds=0.5,
        shutdown_grace_seconds=2.0,
        max_attempts=5,
    )
    values.update(overrides)
    return Settings(**values)


def wait_until(check: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.03) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {result!r})")
        time.sleep(interval)


def notify_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotency_key": "alert-group-1:opened",
        "incident_id": 12,
        "event": "opened",
        "severity": "critical",
        "title": "High 5xx rate on be_api",
        "summary": "5xx rate is 23% over the last 5 minutes.",
        "report_markdown": "",
        "url": "https://copilot.example/incidents/12",
    }
    body.update(overrides)
    return body

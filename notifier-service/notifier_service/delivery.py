"""What every channel's sender reports to the worker: delivered (with a note) or why not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from notifier_service.store import Stored


class DeliveryError(Exception):
    """`permanent`: retrying cannot help (fail now); `retry_after`: the receiver asked for a pause."""

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


BeforeSend = Callable[[], Awaitable[None]]


class Sender(Protocol):
    """One sender task's connection to a channel (an SMTP connection, an HTTP client).

    `deliver` calls `before_send` once, just before the bytes that may be accepted leave; from
    there on a crash leaves delivery uncertain (see worker.py). It returns a note ("" = none)."""

    async def deliver(self, item: Stored, *, before_send: BeforeSend) -> str: ...

    async def idle(self) -> None:
        """Nothing to send for a while: drop what should not stay open (an SMTP session)."""

    async def close(self) -> None: ...

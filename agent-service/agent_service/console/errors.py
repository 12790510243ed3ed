"""The one way a console route refuses: the status, the reason shown, and whether to sign in."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager


class ConsoleRefusal(Exception):
    """Answered by the console's handler: a redirect to sign-in, or a page with the reason."""

    def __init__(self, status_code: int, reason: str, *, sign_in: bool = False,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason
        self.sign_in = sign_in
        self.headers = headers or {}


@contextmanager
def refusing(statuses: Mapping[type[Exception], int], *, reason: str | None = None) -> Iterator[None]:
    """Turn the listed exceptions into a ConsoleRefusal of their status (the exception's text, or `reason`)."""
    try:
        yield
    except tuple(statuses) as exc:
        status = next(code for kind, code in statuses.items() if isinstance(exc, kind))
        raise ConsoleRefusal(status, reason or str(exc)) from None

"""Reading an HTML form (application/x-www-form-urlencoded) without a multipart dependency."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 50


class FormError(Exception):
    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


def parse_form(body: bytes) -> dict[str, str]:
    """The fields of a urlencoded body (the last of a repeated name wins)."""
    if len(body) > MAX_FORM_BYTES:
        raise FormError(413, f"form larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                          max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError(400, f"unreadable form: {exc}") from None
    return dict(pairs)


async def read_form(request: Request) -> dict[str, str]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise FormError(415, "expected an HTML form (application/x-www-form-urlencoded)")
    return parse_form(await request.body())

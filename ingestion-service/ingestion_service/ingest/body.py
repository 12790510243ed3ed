"""Request bodies → parse results, by content type. Errors as values, with 1-based line numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ingestion_service.haproxy.models import DEFAULT_OPTIONS, ParseError, ParseOptions, ParseResult
from ingestion_service.haproxy.parser import parse_line
from ingestion_service.ingest.json_entry import entry_from_json

TEXT = "text/plain"
JSON = "application/json"
NDJSON = "application/x-ndjson"
SUPPORTED = (TEXT, JSON, NDJSON)


class UnreadableBody(Exception):
    """The body as a whole cannot be read (→ 422)."""


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableBody(f"body is not valid UTF-8 (byte {exc.start})") from exc


def parse_body(kind: str, body: bytes, options: ParseOptions = DEFAULT_OPTIONS) -> Iterator[tuple[int, ParseResult]]:
    """(line number, result) per non-blank line / JSON entry."""
    text = decode(body)
    if kind == TEXT:
        for number, line in enumerate(text.split("\n"), 1):
            if line and not line.isspace():
                yield number, parse_line(line, options)
    elif kind == NDJSON:
        for number, line in enumerate(text.split("\n"), 1):
            if line and not line.isspace():
                try:
                    obj = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    yield number, ParseError(f"invalid JSON: {str(exc)[:200]}")
                    continue
                yield number, entry_from_json(obj, options.timezone)
    elif kind == JSON:
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise UnreadableBody(f"invalid JSON: {str(exc)[:200]}") from exc
        items = doc if isinstance(doc, list) else [doc]
        for number, obj in enumerate(items, 1):
            yield number, entry_from_json(obj, options.timezone)
    else:
        raise ValueError(kind)

"""Pages from the Jinja2 templates (autoescape on for every template: outside text is never
trusted) with the console's Content-Security-Policy: scripts and styles from /console/static only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent / "templates"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def as_json(value: Any) -> str:
    """Evidence arguments and results, shown as text (escaped by the template like any other)."""
    text = json.dumps(value, indent=1, sort_keys=True, default=str)
    return text if len(text) <= 4000 else text[:4000] + "\n… (cut)"


def number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def make_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=when, as_json=as_json, number=number)
    return env


class Pages:
    def __init__(self, env: Environment | None = None) -> None:
        self.env = env or make_environment()

    def html(self, template: str, *, status_code: int = 200, headers: dict[str, str] | None = None,
             **context: Any) -> HTMLResponse:
        body = self.env.get_template(template).render(**context)
        return HTMLResponse(body, status_code=status_code,
                            headers={"Content-Security-Policy": CSP, **(headers or {})})

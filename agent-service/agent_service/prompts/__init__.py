"""Prompt templates loaded by name (`latency` → latency.md). Templates hold only our own text and
numbers (thresholds, step limits); text derived from logs or alerts never enters a template."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

PROMPTS_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # plain-text prompts for a model, never rendered as HTML: no autoescape
    return Environment(  # nosec B701
        loader=FileSystemLoader(PROMPTS_DIR),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_names() -> list[str]:
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.md") if not p.name.startswith("_"))


def render(name: str, **values: object) -> str:
    """Render prompts/<name>.md; unknown names and missing values raise."""
    filename = name if name.endswith(".md") else f"{name}.md"
    if "/" in filename or filename.startswith(("_", ".")):
        raise ValueError(f"not a prompt template name: {name!r}")
    try:
        return _environment().get_template(filename).render(**values)
    except TemplateNotFound as exc:
        raise ValueError(f"no prompt template {name!r}; have {template_names()}") from exc


def format_thresholds(thresholds: Mapping[str, float]) -> list[tuple[str, str]]:
    return [(key, f"{value:g}") for key, value in sorted(thresholds.items())]

"""A runbook file as data: YAML front matter (title, alerts, backends, tags) and its sections,
split at markdown headings. Pure: text in, a Runbook out."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
MAX_LIST = 50


@dataclass(frozen=True)
class Section:
    heading: str
    text: str


@dataclass(frozen=True)
class Runbook:
    file: str  # relative to RUNBOOKS_DIR
    title: str
    alerts: tuple[str, ...]
    backends: tuple[str, ...]
    tags: tuple[str, ...]
    sections: tuple[Section, ...]


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(str(v).strip()[:200] for v in value[:MAX_LIST] if str(v).strip())


def front_matter(text: str) -> tuple[dict[str, object], str]:
    """(the front matter mapping, the body). Unreadable or absent front matter: ({}, text)."""
    m = _FRONT.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}, text[m.end():]
    return (meta if isinstance(meta, dict) else {}), text[m.end():]


def sections(body: str, *, default: str) -> tuple[Section, ...]:
    """One section per heading (the text before the first heading under `default`); a level-1
    heading alone is the title, not a section of its own when nothing follows it."""
    out: list[Section] = []
    heading, lines = default, []  # type: tuple[str, list[str]]
    for line in body.splitlines():
        m = _HEADING.match(line)
        if m:
            if "\n".join(lines).strip():
                out.append(Section(heading, "\n".join(lines).strip()))
            heading, lines = m.group(2).strip(), []
        else:
            lines.append(line)
    if "\n".join(lines).strip():
        out.append(Section(heading, "\n".join(lines).strip()))
    return tuple(out)


def parse_runbook(text: str, *, file: str) -> Runbook:
    meta, body = front_matter(text)
    first = next((m.group(2).strip() for m in map(_HEADING.match, body.splitlines()) if m), None)
    title = str(meta.get("title") or first or file)[:200]
    return Runbook(
        file=file, title=title, alerts=_names(meta.get("alerts")), backends=_names(meta.get("backends")),
        tags=_names(meta.get("tags")), sections=sections(body, default=title),
    )

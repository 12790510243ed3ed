"""Edit one `server` line of an HAProxy configuration text (pure), for a config pull request.

Only the named server line of the named `backend` (or `listen`) section changes, and on it only
the `weight`/`maxconn` values and the `disabled` keyword (dropping an `enabled`); every other byte — comments, spacing,
line endings, the order of the other options — stays as it was. A server line that is not
found (or found twice) is refused: a pull request that patches the wrong place is worse than none.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

SECTIONS = ("global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist",
            "mailers", "program", "http-errors", "ring", "cache", "crt-store", "traces", "log-forward")
_SECTION = re.compile(r"^(" + "|".join(map(re.escape, SECTIONS)) + r")(?:\s+(\S+))?\s*(?:#.*)?$")
_SERVER = re.compile(r"^(\s*server\s+)(\S+)(\s.*)?$")


class ServerLineNotFound(ValueError):
    """No (or more than one) `server NAME` line in `backend NAME`."""


class ServerChange(BaseModel):
    """What to set on the server line; None leaves that option as it is."""

    model_config = ConfigDict(frozen=True)

    weight: int | None = Field(default=None, ge=0, le=256)
    maxconn: int | None = Field(default=None, ge=0, le=10_000_000)
    disabled: bool | None = None


def _set_value(options: str, name: str, value: int) -> str:
    pattern = re.compile(r"(\s" + name + r"\s+)(\S+)")
    if pattern.search(options):
        return pattern.sub(lambda m: m.group(1) + str(value), options, count=1)
    return options + f" {name} {value}"


def _set_flag(options: str, name: str, on: bool) -> str:
    pattern = re.compile(r"\s" + name + r"(?=\s|$)")
    if on:
        return options if pattern.search(options) else options + f" {name}"
    return pattern.sub("", options)


def _edit(line: str, change: ServerChange) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    code, hash_, comment = body.partition("#")
    stripped = code.rstrip()
    pad = code[len(stripped):]
    head = re.match(r"\s*server\s+\S+(?:\s+\S+)?", stripped)
    prefix = head.group(0) if head else ""
    options = stripped[len(prefix):]
    if change.weight is not None:
        options = _set_value(options, "weight", change.weight)
    if change.maxconn is not None:
        options = _set_value(options, "maxconn", change.maxconn)
    if change.disabled is not None:
        options = _set_flag(options, "disabled", change.disabled)
        if change.disabled:
            options = _set_flag(options, "enabled", False)  # `enabled` after `disabled` would win
    options = prefix + options
    if options != stripped and comment and not pad:
        pad = " "
    return options + pad + hash_ + comment + ending


def edit_server(config: str, *, backend: str, server: str, change: ServerChange) -> str:
    """`config` with the `server` line of `backend` changed as asked; raises ServerLineNotFound."""
    lines = config.splitlines(keepends=True)
    section: tuple[str, str | None] | None = None
    hits: list[int] = []
    for index, line in enumerate(lines):
        head = _SECTION.match(line.rstrip("\r\n"))
        if head:
            section = (head.group(1), head.group(2))
            continue
        found = _SERVER.match(line.rstrip("\r\n"))
        if found and found.group(2) == server and section in {("backend", backend), ("listen", backend)}:
            hits.append(index)
    if len(hits) != 1:
        why = "not found" if not hits else f"found {len(hits)} times"
        raise ServerLineNotFound(f"server {server} in backend {backend}: {why}")
    lines[hits[0]] = _edit(lines[hits[0]], change)
    return "".join(lines)

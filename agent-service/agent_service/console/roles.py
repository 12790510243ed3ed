"""Roles: a viewer reads; a responder also acts on incidents; an admin also manages users."""

from __future__ import annotations

import re
from enum import StrEnum

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")  # fits the incidents' actor pattern


class Role(StrEnum):
    viewer = "viewer"
    responder = "responder"
    admin = "admin"


_RANK = {Role.viewer: 0, Role.responder: 1, Role.admin: 2}


def allows(role: Role, needed: Role) -> bool:
    return _RANK[role] >= _RANK[needed]


def valid_name(name: str) -> bool:
    return bool(NAME_PATTERN.match(name))


def timeline_actor(name: str) -> str:
    """The name written on an incident's timeline for a console user's action."""
    return f"console:{name}"

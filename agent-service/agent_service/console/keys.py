"""Every Redis key the console writes, under the `console:` prefix (the agent's Redis)."""

from __future__ import annotations

import hashlib

PREFIX = "console:"
USERS = PREFIX + "users"  # set of user names


def user_key(name: str) -> str:
    return f"{PREFIX}user:{name}"  # hash: role, password_hash, created_at


def epoch_key(name: str) -> str:
    """The user's session epoch; never deleted, so a re-created user does not revive old cookies."""
    return f"{PREFIX}epoch:{name}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def login_user_key(name: str) -> str:
    return f"{PREFIX}login:user:{_digest(name)}"  # failed sign-ins for this name (any text)


def login_addr_key(address: str) -> str:
    return f"{PREFIX}login:addr:{_digest(address)}"


def ask_key(job_id: str) -> str:
    return f"{PREFIX}ask:{job_id}"

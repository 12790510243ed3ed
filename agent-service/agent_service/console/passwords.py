"""argon2id password hashes (argon2-cffi's defaults); verification off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 1024

_hasher = PasswordHasher()
# Verified when the user does not exist, so an unknown name costs as long as a wrong password.
_DUMMY = _hasher.hash("not a password of anyone")


class WeakPassword(ValueError):
    pass


def check_strength(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword(f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    too_long = len(password) > MAX_LENGTH  # never stored: checked against the dummy, always False
    try:
        matched = _hasher.verify(_DUMMY if stored is None or too_long else stored, password[:MAX_LENGTH])
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored is not None and not too_long


async def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored` (None: no such user, always False)."""
    return await asyncio.to_thread(_verify, stored, password)

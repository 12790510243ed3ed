"""Exponential backoff with jitter for SMTP retries (pure)."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay before attempt `attempt + 1`, after `attempt` (>= 1) failures.

    The ceiling doubles per failure up to `cap`; the delay is drawn from the upper half of it
    ("equal jitter"), so retries from many notifications spread out but never come back at once.
    """
    ceiling = min(cap, base * 2 ** min(max(attempt, 1) - 1, 60))
    draw = (rng or random).random()
    return ceiling / 2 + draw * ceiling / 2

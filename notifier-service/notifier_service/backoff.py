"""Exponential backoff with jitter for SMTP retries: the shared schedule, with jitter."""

from __future__ import annotations

import random

from oncall_common.backoff import backoff_delay as _shared


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay before attempt `attempt + 1`, after `attempt` (>= 1) failures (equal jitter)."""
    return _shared(attempt, base_s=base, max_s=cap, jitter=True, rng=rng)

"""One backoff schedule for every stored retry (notifier SMTP retries, agent → notifier retries)."""

from __future__ import annotations

import random


def backoff_delay(
    failures: int,
    *,
    base_s: float,
    max_s: float,
    jitter: bool = False,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after the `failures`-th failure in a row (1, 2, ...).

    The ceiling doubles per failure from `base_s` up to `max_s`. With `jitter`, the delay is drawn
    from the upper half of the ceiling ("equal jitter"): retries from many senders spread out but
    never come back sooner than half the schedule.
    """
    ceiling = min(max_s, base_s * 2 ** min(max(failures, 1) - 1, 60))
    if not jitter:
        return ceiling
    draw = (rng or random).random()
    return ceiling / 2 + draw * ceiling / 2

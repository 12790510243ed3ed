"""Small, pure statistics for judging a scope against its own baseline: count tests that respect
how many requests there were, robust location and spread, and the temporal profile of a signal.
No dependencies beyond `math`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z_ONE_SIDED_95 = 1.645


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def poisson_cdf(k: float, lam: float) -> float:
    """P(X <= k) for X ~ Poisson(lam); exact for moderate lam, normal with continuity beyond."""
    if lam <= 0:
        return 1.0
    k = math.floor(k)
    if k < 0:
        return 0.0
    if lam > 500:
        return 1.0 - _normal_sf((k + 0.5 - lam) / math.sqrt(lam))
    term = math.exp(-lam)
    total = term
    for i in range(1, int(k) + 1):
        term *= lam / i
        total += term
        if term < 1e-300 and i > lam:
            break
    return min(1.0, total)


def poisson_sf(k: float, lam: float) -> float:
    """P(X >= k)."""
    return 1.0 - poisson_cdf(k - 1, lam) if k > 0 else 1.0


def wilson_low(successes: float, n: float, z: float = Z_ONE_SIDED_95) -> float:
    """Lower bound of the Wilson interval of a proportion, in [0, 1] (0 when n = 0)."""
    if n <= 0:
        return 0.0
    p = successes / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / denom)


def wilson_high(successes: float, n: float, z: float = Z_ONE_SIDED_95) -> float:
    """Upper bound of the Wilson interval (1 when n = 0)."""
    if n <= 0:
        return 1.0
    return 1.0 - wilson_low(n - successes, n, z)


def proportion_above(bad: float, n: float, base_bad: float, base_n: float) -> bool:
    """Is bad/n clearly above the baseline's proportion: the window's lower bound above the
    baseline's upper bound (each one-sided ~95 %), so neither a small window nor a small baseline
    decides by chance? A baseline with no requests cannot decide: False."""
    if n <= 0 or base_n <= 0:
        return False
    return wilson_low(bad, n) > wilson_high(base_bad, base_n)


def median(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def mad(values: Sequence[float]) -> float:
    """Median absolute deviation (unscaled)."""
    m = median(values)
    return median([abs(v - m) for v in values])


def trimmed_mean(values: Sequence[float], cut: float = 0.2) -> float:
    """The mean without the lowest and highest `cut` share of the values: a baseline whose last
    minutes already hold the onset keeps its usual level."""
    if not values:
        return 0.0
    s = sorted(values)
    k = int(len(s) * cut)
    kept = s[k: len(s) - k] or s
    return sum(kept) / len(kept)


def sliding_sums(values: Sequence[float], width: int) -> list[float]:
    """Sums of every run of `width` consecutive values (empty when too short)."""
    if width <= 0 or len(values) < width:
        return []
    out = [sum(values[:width])]
    for i in range(width, len(values)):
        out.append(out[-1] + values[i] - values[i - width])
    return out


@dataclass(frozen=True)
class Profile:
    """When a per-minute condition held inside the window."""

    bad: tuple[bool, ...]
    onset: int | None  # index of the first minute of the last run that matters
    ongoing: bool  # holds in the latest minutes
    recovered: bool  # held, then stopped for the latest `settle` minutes
    flapping: bool  # switched on and off several times
    bad_minutes: int

    @property
    def episodes(self) -> int:
        """Runs of consecutive bad minutes."""
        return sum(1 for i, f in enumerate(self.bad) if f and (i == 0 or not self.bad[i - 1]))

    @property
    def first_bad(self) -> int | None:
        return next((i for i, f in enumerate(self.bad) if f), None)

    @property
    def seen(self) -> bool:
        return self.bad_minutes > 0


def profile(bad: Sequence[bool], *, settle: int = 3) -> Profile:
    """`bad` per minute, oldest first. Ongoing: among the latest `settle` minutes at least one is
    bad and the very latest full ones are not all good; recovered: bad before, none of the last
    `settle`. The onset is the first bad minute of the episode still going on (or the last one)."""
    flags = tuple(bool(b) for b in bad)
    n = len(flags)
    count = sum(flags)
    if not count:
        return Profile(flags, None, False, False, False, 0)
    switches = sum(1 for a, b in zip(flags, flags[1:]) if a != b)
    tail = flags[-settle:] if n >= settle else flags
    ongoing = any(tail)
    recovered = not ongoing
    # the episode: from the first bad minute after the longest good gap before the latest bad one
    last_bad = max(i for i, f in enumerate(flags) if f)
    onset = last_bad
    gap = 0
    for i in range(last_bad, -1, -1):
        if flags[i]:
            onset, gap = i, 0
        else:
            gap += 1
            if gap >= settle:
                break
    return Profile(flags, onset, ongoing, recovered, switches >= 4 and count < n - 1, count)

"""A DDSketch-style log-bucketed histogram: mergeable, relative error <= 1% for every quantile.

Bucket k holds values v with gamma^(k-1) < v <= gamma^k, gamma = (1+a)/(1-a); its representative
2*gamma^k/(gamma+1) is within a (=1%) of every value in it. Zero (and negative) values go to a
zero bucket. Only non-empty buckets are kept, as {k: count}.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(GAMMA)
ZERO_KEY = -(2**31)  # bucket for values <= 0
MIN_VALUE = 1e-9  # positive values below this count as zero


def key_for(value: float) -> int:
    if value <= MIN_VALUE:
        return ZERO_KEY
    return math.ceil(math.log(value) / _LOG_GAMMA)


def value_for(key: int) -> float:
    if key == ZERO_KEY:
        return 0.0
    return 2 * GAMMA**key / (GAMMA + 1)


def upper_bound(key: int) -> float:
    return 0.0 if key == ZERO_KEY else GAMMA**key


class Sketch:
    __slots__ = ("buckets", "count")

    def __init__(self, buckets: Mapping[int, int] | None = None) -> None:
        self.buckets: dict[int, int] = {k: v for k, v in (buckets or {}).items() if v > 0}
        self.count = sum(self.buckets.values())

    def add(self, value: float, count: int = 1) -> None:
        if count <= 0:
            return
        k = key_for(value)
        self.buckets[k] = self.buckets.get(k, 0) + count
        self.count += count

    def add_all(self, values: Iterable[float]) -> None:
        for v in values:
            self.add(v)

    def merge(self, other: Sketch | Mapping[int, int]) -> None:
        buckets = other.buckets if isinstance(other, Sketch) else other
        for k, c in buckets.items():
            if c > 0:
                self.buckets[k] = self.buckets.get(k, 0) + c
                self.count += c

    def quantile(self, q: float) -> float | None:
        """Value at rank floor(q*(n-1)) (0-based), within 1% of the exact one; None when empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile must be in [0, 1], got {q}")
        if self.count == 0:
            return None
        rank = math.floor(q * (self.count - 1))
        seen = 0
        for k in sorted(self.buckets):
            seen += self.buckets[k]
            if seen > rank:
                return value_for(k)
        return value_for(max(self.buckets))  # unreachable: counts add up

    def max(self) -> float | None:
        return value_for(max(self.buckets)) if self.buckets else None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sketch) and self.buckets == other.buckets

    def __repr__(self) -> str:
        return f"Sketch(count={self.count}, buckets={len(self.buckets)})"

"""Seeded sampling helpers of the generator: Poisson counts, weighted picks, client addresses."""

from __future__ import annotations

import bisect
import itertools
import math
import random


def mix(base: float, target: float, intensity: float) -> float:
    return base + (target - base) * intensity


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class Pick:
    """Weighted choice with precomputed cumulative weights (one random draw per pick)."""

    def __init__(self, items: list, weights: list[float]) -> None:
        self.items = items
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):  # noqa: ANN204 - returns an item of `items`
        return self.items[min(bisect.bisect_right(self.cumulative, rng.random() * self.total), len(self.items) - 1)]


def randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def client_ip(index: int) -> str:
    return f"10.20.{index // 250 % 250}.{index % 250 + 1}"

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion_service.sketch import Sketch

QUANTILES = [0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0]


def _exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def _check(values: list[float]) -> None:
    sketch = Sketch()
    sketch.add_all(values)
    assert sketch.count == len(values)
    for q in QUANTILES:
        exact = _exact(values, q)
        got = sketch.quantile(q)
        assert got is not None
        if exact == 0:
            assert got == 0
        else:
            assert abs(got - exact) / exact <= 0.01, (q, got, exact)


rng = random.Random(7)
DISTRIBUTIONS = {
    "skewed-lognormal": [rng.lognormvariate(3, 1.5) for _ in range(20000)],
    "pareto-tail": [rng.paretovariate(1.1) * 5 for _ in range(20000)],
    "bimodal": [rng.gauss(20, 2) if rng.random() < 0.7 else rng.gauss(2000, 100) for _ in range(20000)],
    "constant": [137.0] * 5000,
    "integer-ms": [float(int(rng.expovariate(1 / 40))) for _ in range(20000)],
    "wide": [10 ** rng.uniform(-3, 7) for _ in range(20000)],
}


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_quantiles_within_one_percent(name: str) -> None:
    _check([max(v, 0.0) for v in DISTRIBUTIONS[name]])


def test_merge_equals_adding_everything() -> None:
    values = DISTRIBUTIONS["bimodal"]
    a, b, whole = Sketch(), Sketch(), Sketch()
    a.add_all(values[:7000])
    b.add_all(values[7000:])
    whole.add_all(values)
    a.merge(b)
    assert a == whole and a.count == whole.count
    assert a.quantile(0.99) == whole.quantile(0.99)


def test_only_non_empty_buckets_are_kept() -> None:
    s = Sketch()
    s.add_all([1.0, 1000.0, 1000.0, 10**6])
    assert len(s.buckets) == 3 and all(c > 0 for c in s.buckets.values())
    assert Sketch().quantile(0.5) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=1, max_size=300),
       st.floats(min_value=0, max_value=1))
def test_any_quantile_any_data(values: list[float], q: float) -> None:
    s = Sketch()
    s.add_all(values)
    exact = _exact(values, q)
    got = s.quantile(q)
    assert got is not None
    if exact <= 1e-9:
        assert got == 0
    else:
        assert abs(got - exact) / exact <= 0.01 + 1e-12

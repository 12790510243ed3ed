"""The statistics the catalogue stands on, against values computed by hand."""

from __future__ import annotations

import math

import pytest

from agent_service.diagnosis.stats import (
    mad,
    median,
    poisson_cdf,
    poisson_sf,
    profile,
    proportion_above,
    sliding_sums,
    trimmed_mean,
    wilson_high,
    wilson_low,
)


def test_poisson_tails_match_the_formula_and_the_normal_limit() -> None:
    lam = 4.0
    exact = sum(math.exp(-lam) * lam**k / math.factorial(k) for k in range(3))
    assert poisson_cdf(2, lam) == pytest.approx(exact)
    assert poisson_sf(3, lam) == pytest.approx(1 - exact)
    assert poisson_cdf(0, 0) == 1.0 and poisson_cdf(-1, 3) == 0.0
    assert poisson_cdf(1000, 1000) == pytest.approx(0.5, abs=0.02)  # the normal branch
    assert poisson_cdf(800, 1000) < 1e-9


def test_count_tests_respect_how_many_requests_there_were() -> None:
    assert wilson_low(0, 0) == 0.0
    assert wilson_low(3, 10) < 0.15 < 0.27 < wilson_low(300, 1000)  # a few requests: a wide interval
    assert not proportion_above(1, 40, 1, 400)  # one error in 40 is not clearly above one in 400
    assert proportion_above(3, 40, 1, 400)
    assert wilson_low(1, 400) < 1 / 400 < wilson_high(1, 400) and wilson_high(0, 0) == 1.0
    assert proportion_above(300, 4000, 1, 4000)
    assert not proportion_above(5, 10, 0, 0)  # no baseline: cannot decide


def test_robust_location_and_spans() -> None:
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5 and mad([1, 1, 2, 2, 100]) == 1
    assert trimmed_mean([100, 100, 100, 100, 100, 100, 100, 100, 330, 330]) == 100  # an onset does not lift it
    assert sliding_sums([1, 2, 3, 4], 2) == [3, 5, 7] and sliding_sums([1], 2) == []


def test_profile_tells_ongoing_recovered_and_flapping() -> None:
    ongoing = profile([False] * 5 + [True] * 5)
    assert (ongoing.onset, ongoing.ongoing, ongoing.recovered) == (5, True, False)
    recovered = profile([False, True, True, True, False, False, False])
    assert (recovered.onset, recovered.ongoing, recovered.recovered) == (1, False, True)
    flapping = profile([True, False, True, False, True, False, True, False, True, False])
    assert flapping.flapping and flapping.ongoing
    assert not profile([False] * 8).seen


def test_timing_says_when_a_problem_began_before_the_window() -> None:
    from datetime import UTC, datetime

    from agent_service.diagnosis.data import Series
    from agent_service.diagnosis.hypothesis import Timing

    series = Series(start=datetime(2026, 12, 2, 14, 0, tzinfo=UTC), columns={"requests": (1.0,) * 6})
    inside = Timing.of(profile([False, False, True, True, True, True]), series)
    assert inside.at() == " at 14:02 UTC" and inside.words() == "It started at 14:02 UTC and is still going on."
    before = Timing.of(profile([True] * 6), series)
    assert before.at() == " before 14:00 UTC"
    assert before.words() == "It was already going on when the window began (14:00 UTC) and still is."
    over = Timing.of(profile([True, True, False, False, False, False]), series)
    assert over.recovered and "has recovered" in over.words()


def test_flapping_is_worded_with_its_episodes_and_share_of_minutes() -> None:
    from datetime import UTC, datetime

    from agent_service.diagnosis.data import Series
    from agent_service.diagnosis.hypothesis import Timing

    flags = [False, False, True, False, True, True, False, False, True, False, True, True]
    p = profile(flags)
    assert p.flapping and p.episodes == 4 and p.first_bad == 2
    series = Series(start=datetime(2026, 12, 2, 14, 0, tzinfo=UTC), columns={"requests": (1.0,) * len(flags)})
    words = Timing.of(p, series).words()
    assert words.startswith("It comes and goes: bad in 6 of 12 minutes, in 4 episodes since 14:02 UTC")
    assert "still going on" in words and "health check" in words
    over = Timing.of(profile(flags + [False] * 4), series).words()
    assert over.startswith("It started at 14:02 UTC and has recovered")  # recovery wins over flapping

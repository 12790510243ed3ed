"""The temporal profile of a per-minute signal with three states: bad (over the line), clearly
good (back under it with a margin) and in between (noise around the line, or a minute too thin to
judge). `stats.profile` sees only bad / not bad, so a steady signal that straddles its threshold
reads as "comes and goes", and a few minutes just under the line read as "recovered". Here:

- the in-between minutes never split an episode, never count as a switch and never count as
  recovery: flapping needs bad episodes separated by clearly good minutes (the same count of
  switches as `stats.profile`, on the minutes that are clearly one or the other);
- recovered needs the latest `settle` judged minutes all clearly good;
- the episode still going on (the onset) starts at its first minute that is not clearly good.

Pure; no dependencies beyond the standard library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAD, GOOD, UNCLEAR = "bad", "good", "unclear"

# Switches between bad and clearly good minutes for a signal to flap: on, off, on, off
# (at least two bad episodes with clearly good minutes around them), as in `stats.profile`.
FLAP_SWITCHES = 4


@dataclass(frozen=True)
class Timeline:
    """Duck-compatible with `stats.Profile` for `Timing.of`."""

    states: tuple[str, ...]
    onset: int | None
    ongoing: bool
    recovered: bool
    flapping: bool
    episodes: int

    @property
    def bad(self) -> tuple[bool, ...]:
        return tuple(s == BAD for s in self.states)

    @property
    def bad_minutes(self) -> int:
        return sum(self.bad)

    @property
    def first_bad(self) -> int | None:
        return next((i for i, s in enumerate(self.states) if s == BAD), None)

    @property
    def seen(self) -> bool:
        return self.bad_minutes > 0


def states_of(bad: Sequence[bool], good: Sequence[bool]) -> list[str]:
    """Bad wins over good (a predicate pair that overlaps is read as bad)."""
    return [BAD if b else GOOD if g else UNCLEAR for b, g in zip(bad, good)]


def timeline(states: Sequence[str], *, settle: int = 3) -> Timeline:
    """`states` per minute, oldest first (BAD / GOOD / UNCLEAR)."""
    s = tuple(states)
    if BAD not in s:
        return Timeline(s, None, False, False, False, 0)
    clear = [x for x in s if x != UNCLEAR]  # the minutes that are clearly one or the other
    switches = sum(1 for a, b in zip(clear, clear[1:]) if a != b)
    recovered = len(s) >= settle and all(x == GOOD for x in s[-settle:])
    # episodes: runs of not-clearly-good minutes holding a bad one
    runs: list[tuple[int, int]] = []  # (first, last) index of each episode
    start = None
    for i, x in enumerate(s + (GOOD,)):
        if x != GOOD and start is None:
            start = i
        elif x == GOOD and start is not None:
            if BAD in s[start:i]:
                runs.append((start, i - 1))
            start = None
    # the episode that matters: the latest, merged back over gaps shorter than `settle` good minutes
    first, _ = runs[-1]
    for prev_first, prev_last in reversed(runs[:-1]):
        if first - prev_last - 1 >= settle:
            break
        first = prev_first
    onset = first  # its leading in-between minutes are already off the healthy level: its start
    flapping = switches >= FLAP_SWITCHES and sum(x == BAD for x in s) < len(s) - 1
    return Timeline(s, onset, not recovered, recovered, flapping, len(runs))

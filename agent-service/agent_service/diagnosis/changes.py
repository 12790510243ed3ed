"""What changed before a regression (pure): the recorded change events an analysis read with
`get_changes`, and the tie of a `regression` hypothesis to the change nearest before its onset
on the same backend — "be_search slowed at 14:02 UTC, 3 minutes after deploy v2.3.1 by alice:
roll back v2.3.1" — or, when the events were read and none precedes it, "no recorded change
before it". Events of kind `annotation` (text an alert carried) are never the change to roll
back. Without events read (no store, the tool failed) the hypothesis is left as it was."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent_service.diagnosis.hypothesis import Hypothesis

if TYPE_CHECKING:
    from agent_service.diagnosis.case import Case

# The onset is the first bad minute: a change inside that minute still comes before the effect.
SLACK = timedelta(seconds=60)
_WORDS = {"deploy": "deploy", "config": "config change", "feature_flag": "feature flag change",
          "rollback": "rollback", "scale": "scaling change", "infra": "infrastructure change"}


@dataclass(frozen=True)
class Change:
    id: str
    kind: str
    at: datetime
    backend: str | None = None
    version: str | None = None
    by: str | None = None

    @property
    def what(self) -> str:
        """The thing to roll back: its version, else its id."""
        return self.version or self.id

    @property
    def label(self) -> str:
        by = f" by {self.by}" if self.by else ""
        return f"{_WORDS.get(self.kind, 'change')} {self.what}{by}"


def _parse(item: Mapping[str, Any]) -> Change | None:
    try:
        at = datetime.fromisoformat(str(item["at"]).replace("Z", "+00:00"))
        return Change(id=str(item["id"]), kind=str(item.get("kind") or "other"), at=at,
                      backend=item.get("backend"), version=item.get("version"), by=item.get("by"))
    except (KeyError, TypeError, ValueError):
        return None


def changes_from(result: Any) -> tuple[Change, ...]:
    """The `get_changes` tool's data as changes (what cannot be read is left out)."""
    items = result.get("events") if isinstance(result, Mapping) else None
    parsed = (_parse(i) for i in items or [] if isinstance(i, Mapping))
    return tuple(c for c in parsed if c is not None)


def nearest_before(changes: Iterable[Change], backend: str, onset: datetime) -> Change | None:
    fits = [c for c in changes if c.kind != "annotation" and c.backend == backend and c.at <= onset + SLACK]
    return max(fits, key=lambda c: c.at, default=None)


def tie(h: Hypothesis, case: Case) -> Hypothesis:
    """A regression told with the change before its onset (or the absence of one)."""
    if h.mode != "regression" or case.changes is None or not h.backend:
        return h
    onset = h.timing.onset or case.data.window.start
    at = f"{onset:%H:%M} UTC"
    verb = "slowed" if h.specialist == "latency" else "started failing"
    change = nearest_before(case.changes, h.backend, onset)
    if change is None:
        return replace(
            h, sentence=f"{h.sentence} No recorded change before it on {h.backend}.",
            recommendation=(f"{h.backend} {verb} at {at} with no recorded change before it: look for a change "
                            f"nobody recorded (a deploy, config or feature flag) and at the dependency its "
                            f"servers call."),
            support=(*h.support, "no recorded change before the onset"))
    minutes = max(0, round((onset - change.at).total_seconds() / 60))
    gap = f"{minutes} minute{'' if minutes == 1 else 's'} after" if minutes else "right after"
    told = f"{h.backend} {verb} at {at}, {gap} {change.label}"
    return replace(
        h, sentence=f"{h.sentence} {told}.",
        recommendation=(f"{told}: roll back {change.what} on {h.backend}; if it does not recover after the "
                        f"rollback, look at the dependency its servers call."),
        support=(*h.support, f"{change.label} {gap.replace(' after', '')} before the onset"),
        numbers={**h.numbers, "minutes_after_change": float(minutes)})

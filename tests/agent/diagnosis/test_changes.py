"""The regression tied to what changed: the change nearest before the onset on the same backend is
named with its version, author and distance ("3 minutes after deploy v2.3.1 by alice: roll back
v2.3.1"); no change before it is said too; an alert annotation or another backend's deploy is
never the change to roll back; without events read, the wording is the engine's own."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from agent_service.diagnosis.changes import Change
from agent_service.diagnosis.diagnose import diagnose
from agent_service.diagnosis.story import tell
from agent_service.models import SPECIALISTS, Finding
from tests.agent.diagnosis.builders import END, WINDOW, answer, case, scope, stats

DONE = [Finding(specialist=name) for name in SPECIALISTS]
ONSET = END - timedelta(minutes=WINDOW) + timedelta(minutes=4)  # 13:54 UTC


def _regression() -> dict:
    slow, before = stats(3000, ta=(300, 900, 1400)), stats(18000, ta=(40, 120, 200))
    server_now, server_before = stats(1500, ta=(300, 900, 1400)), stats(9000, ta=(40, 120, 200))
    means = {"ta_mean_ms": [50.0] * 4 + [450.0] * 6}
    return answer(
        scope("site", "", slow, before, now_cols=means),
        scope("backend", "be_search", slow, before, now_cols=means),
        scope("server", "be_search/s1", server_now, server_before, now_cols=means),
        scope("server", "be_search/s2", server_now, server_before, now_cols=means),
    )


def _told(changes: tuple[Change, ...] | None) -> tuple[str, list[str]]:
    d = diagnose(replace(case(_regression()), changes=changes))
    top = d.problems[0]
    assert (top.mode, top.backend) == ("regression", "be_search"), [h.mode for h in d.problems]
    story = tell(d, DONE, None)
    return story.diagnosis, story.recommendations


def test_the_change_nearest_before_the_onset_is_named_and_rolled_back() -> None:
    changes = (
        Change("old", "deploy", ONSET - timedelta(minutes=50), backend="be_search", version="v2.3.0", by="bob"),
        Change("dep", "deploy", ONSET - timedelta(minutes=3), backend="be_search", version="v2.3.1", by="alice"),
        Change("api", "deploy", ONSET - timedelta(minutes=1), backend="be_api", version="v9.0.0"),
        Change("later", "deploy", ONSET + timedelta(minutes=3), backend="be_search", version="v2.4.0"),
        Change("ann", "annotation", ONSET - timedelta(minutes=2), backend="be_search", version="v6.6.6"),
    )
    diagnosis, recs = _told(changes)
    assert "be_search slowed at 13:54 UTC, 3 minutes after deploy v2.3.1 by alice" in diagnosis
    assert recs[0].startswith("be_search slowed at 13:54 UTC, 3 minutes after deploy v2.3.1 by alice: roll back v2.3.1")
    text = diagnosis + " ".join(recs)
    assert not any(v in text for v in ("v2.3.0", "v9.0.0", "v2.4.0", "v6.6.6"))


def test_a_change_inside_the_onset_minute_still_comes_before_it() -> None:
    diagnosis, recs = _told((Change("flag", "feature_flag", ONSET + timedelta(seconds=20), backend="be_search"),))
    assert "right after feature flag change flag" in diagnosis and "roll back flag" in recs[0]


def test_no_recorded_change_before_it_is_said_and_nothing_is_rolled_back() -> None:
    diagnosis, recs = _told((Change("ann", "annotation", ONSET - timedelta(minutes=2), backend="be_search",
                                    version="v6.6.6"),))
    assert "No recorded change before it on be_search." in diagnosis
    assert "no recorded change before it" in recs[0]
    assert "roll back v" not in (diagnosis + " ".join(recs)).lower()


def test_without_events_read_the_regression_keeps_its_own_words() -> None:
    diagnosis, recs = _told(None)
    assert "recorded change" not in diagnosis and "check what changed on it just before" in recs[0]


def test_the_minutes_stated_are_in_the_hypothesis_numbers() -> None:
    d = diagnose(replace(case(_regression()), changes=(
        Change("dep", "deploy", ONSET - timedelta(minutes=3), backend="be_search", version="v2.3.1"),)))
    assert d.problems[0].numbers["minutes_after_change"] == 3.0

"""The report says which baseline it used, and how much of it the logs cover."""

from __future__ import annotations

from datetime import timedelta

from agent_service.rules.rules_engine import baseline_note
from agent_service.rules.verdict import CheckInput
from tests.agent.diagnosis.builders import BASELINE, END, WINDOW, answer, case, scope, stats


def _note(before_minutes: list[float], **kw) -> str:
    raw = answer(scope("site", "", stats(1000), stats(int(sum(before_minutes))), before_minutes=before_minutes))
    start = END - timedelta(minutes=WINDOW)
    return baseline_note(CheckInput(window=f"{WINDOW}m", start=start, end=END, **kw), case(raw).data)


def test_a_full_hour_of_history_is_the_hour_before_the_window() -> None:
    assert _note([100.0] * BASELINE) == "each scope against itself over 12:50–13:50 UTC, the hour before the window"


def test_logs_that_began_inside_the_baseline_are_said_to_be_a_shorter_one() -> None:
    note = _note([0.0] * 42 + [100.0] * 18)
    assert note == ("each scope against itself over 13:32–13:50 UTC, the 18 minutes of logs before the window "
                    "(the logs begin there)")

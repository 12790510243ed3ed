"""An Ask job's progress lines, folded from the orchestrator's events: pure, bounded, escaped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent_service.console.ask import AskJob
from agent_service.console.ask_progress import MAX_PROGRESS_LINES, advance, stopped
from agent_service.console.render import Pages
from agent_service.models import AnalyzeRequest
from agent_service.progress import STEPS, ProgressEvent


def event(step: str, state: str, at: float, **kw: object) -> ProgressEvent:
    return ProgressEvent(step=step, state=state, at=at, **kw)  # type: ignore[arg-type]


def test_each_step_is_one_line_in_the_steps_order() -> None:
    lines = advance([], event("traffic", "started", 10.0))
    lines = advance(lines, event("latency", "started", 10.5))
    assert [(line.step, line.text()) for line in lines] == [("latency", "latency: running"), ("traffic", "traffic: running")]
    lines = advance(lines, event("traffic", "done", 12.0, verdict="warning"))
    lines = advance(lines, event("latency", "failed", 13.0, note="no answer within the 30 s deadline"))
    assert [line.text() for line in lines] == ["latency: failed in 2.5 s — no answer within the 30 s deadline",
                                              "traffic: done in 2.0 s — warning"]
    ended = stopped(advance(lines, event("synthesis", "started", 14.0)), "stopped with the analysis", at=15.0)
    assert [line.state for line in ended] == ["failed", "done", "failed"]  # only the running line changed
    assert ended[2].text() == "synthesis: failed in 1.0 s — stopped with the analysis"


@given(st.lists(st.tuples(st.sampled_from(STEPS), st.sampled_from(["started", "done", "failed"])), max_size=60))
def test_any_run_of_events_stays_within_the_bound(run: list[tuple[str, str]]) -> None:
    lines: list = []
    for at, (step, state) in enumerate(run):
        lines = advance(lines, event(step, state, float(at)))
    assert len(lines) <= MAX_PROGRESS_LINES == len(STEPS)
    assert [line.step for line in lines] == [step for step in STEPS if step in {s for s, _ in run}]
    job = AskJob(id="j", by="console:alice", request=AnalyzeRequest(window="15m"), started_at=0.0, progress=lines)
    assert AskJob.model_validate_json(job.model_dump_json()) == job  # the stored record reads back


def test_a_line_is_shown_as_escaped_text() -> None:
    lines = advance(advance([], event("errors", "started", 1.0)),
                    event("errors", "failed", 2.0, note="RuntimeError: <img src=x onerror=alert(1)>"))
    job = AskJob(id="j", by="console:alice", request=AnalyzeRequest(window="15m"), started_at=0.0, status="failed",
                 finished_at=2.0, error="boom", progress=lines)
    html = Pages().env.get_template("_ask_progress.html").render(job=job, report=None, elapsed_s=2.0)
    assert "<img" not in html and "errors: failed in 1.0 s — RuntimeError: &lt;img src=x" in html
    assert 'data-step="errors"' in html and "step-failed" in html

"""The orchestrator's progress hook: each specialist started before it is done (with its verdict) or
failed, the synthesis last, for the rules engine and for a scripted model engine alike."""

from __future__ import annotations

from agent_service.ingestion_client import IngestionClient
from agent_service.models import AnalyzeRequest
from agent_service.orchestrator import Analyzer
from agent_service.progress import STEPS, ProgressEvent, verdict_of
from agent_service.rules import RulesEngine
from tests.agent.diagnosis import builders as b
from tests.agent.fake_ingestion import FakeIngestion
from tests.agent.helpers import END, settings
from tests.agent.test_orchestrator import ScriptedEngine, analyzer

SPECIALISTS = ("latency", "errors", "saturation", "traffic")
REQUEST = AnalyzeRequest(window="15m", end=END)


class Recorder:
    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []

    async def __call__(self, event: ProgressEvent) -> None:
        self.events.append(event)

    def of(self, step: str) -> list[tuple[int, ProgressEvent]]:
        return [(i, e) for i, e in enumerate(self.events) if e.step == step]


def assert_ordered(recorder: Recorder) -> None:
    """Every step once started, then once finished; the synthesis starts after every specialist
    finished and its end is the last event."""
    assert {e.step for e in recorder.events} == set(STEPS)
    finished_at = []
    for step in STEPS:
        (first, start), (last, end) = recorder.of(step)
        assert start.state == "started" and end.state in {"done", "failed"} and first < last
        finished_at.append(last)
    synthesis_start = recorder.of("synthesis")[0][0]
    assert all(synthesis_start > at for at in finished_at[:-1])
    assert recorder.events[-1].step == "synthesis" and recorder.events[-1].state == "done"


async def test_the_rules_engine_reports_each_specialist_then_the_synthesis() -> None:
    now, before = b.stats(900, e5=200), b.stats(5400)  # 22 % answered 5xx against a clean hour
    fake = FakeIngestion().set("breakdown", b.answer(b.scope("backend", "checkout", now, before),
                                                     b.scope("frontend", "www", now, before)))
    recorder = Recorder()
    engine = Analyzer(engine=RulesEngine(), ingestion=IngestionClient(fake.client()), settings=settings())
    report = await engine.analyze(AnalyzeRequest(window=f"{b.WINDOW}m", end=b.END), progress=recorder)
    assert_ordered(recorder)
    assert len(recorder.events) == 2 * len(STEPS)
    for finding in report.findings:
        end = recorder.of(finding.specialist)[-1][1]
        assert end.state == "done" and end.verdict == verdict_of(finding.severity)
    assert [recorder.of(name)[-1][1].verdict for name in SPECIALISTS] == ["calm", "critical", "calm", "calm"]
    synthesis = recorder.events[-1]
    assert synthesis.verdict == verdict_of(report.overall_severity) and synthesis.note is None


async def test_failures_and_a_fallback_synthesis_are_reported() -> None:
    recorder = Recorder()
    engine = ScriptedEngine({"latency": "raise", "traffic": "hang", "errors": "critical"}, synthesis="raise")
    report = await analyzer(engine).analyze(REQUEST, progress=recorder)
    assert_ordered(recorder)
    latency, traffic, errors = (recorder.of(name)[-1][1] for name in ("latency", "traffic", "errors"))
    assert latency.state == "failed" and "boom in latency" in (latency.note or "")
    assert traffic.state == "failed" and "deadline" in (traffic.note or "")
    assert errors.state == "done" and errors.verdict == "critical"
    synthesis = recorder.events[-1]
    assert report.synthesis_error and synthesis.note == f"deterministic synthesis used: {report.synthesis_error}"


async def test_a_failing_hook_does_not_sink_the_analysis() -> None:
    calls: list[str] = []

    async def broken(event: ProgressEvent) -> None:
        calls.append(event.step)
        raise ConnectionError("redis gone")

    report = await analyzer(ScriptedEngine({})).analyze(REQUEST, progress=broken)
    assert len(calls) == 2 * len(STEPS) and len(report.findings) == 4 and report.synthesis_error is None

"""The orchestrator with small fake engines: concurrency, deadlines, failures, fallback synthesis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry

from agent_service.engine import AnalysisContext, SpecialistSpec, Synthesis, Usage
from agent_service.ingestion_client import IngestionClient
from agent_service.metrics import AgentMetrics
from agent_service.models import AnalyzeRequest, Evidence, Finding, IncidentReport, SimilarIncident
from agent_service.orchestrator import Analyzer, Busy, Limiter
from agent_service.tools.base import Tool, ToolResult
from tests.agent.fake_ingestion import FakeIngestion, overview
from tests.agent.helpers import END, settings
from tests.support.net import free_port


class ScriptedEngine:
    """Per specialist: a severity, or 'raise', 'hang', ('sleep', seconds, severity)."""

    kind = "anthropic"
    specialist_model = "fake-small"
    synthesis_model = "fake-big"

    def __init__(self, script: dict[str, Any], *, synthesis: Any = "ok") -> None:
        self.script = script
        self.synthesis = synthesis
        self.seen_tools: dict[str, list[str]] = {}
        self.synthesis_tools: list[str] = []
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}

    async def investigate(self, spec: SpecialistSpec, tools: Sequence[Tool], context: AnalysisContext):
        self.started[spec.name] = time.perf_counter()
        self.seen_tools[spec.name] = [t.name for t in tools]
        action = self.script.get(spec.name, "ok")
        if action == "raise":
            raise RuntimeError("boom in " + spec.name)
        if action == "hang":
            await asyncio.sleep(3600)
        severity = "ok"
        if isinstance(action, tuple):
            await asyncio.sleep(action[1])
            severity = action[2]
        elif action in {"ok", "warning", "critical"}:
            severity = action
        self.finished[spec.name] = time.perf_counter()
        result = await tools[0].run({})
        finding = Finding(
            specialist=spec.name,
            severity=severity,
            summary=f"{spec.name} saw 900 requests",
            evidence=[Evidence(tool=tools[0].name, arguments={}, result=result.data)],
        )
        return finding, Usage(llm_calls=2, tool_calls=1, input_tokens=100, output_tokens=10, cost_usd=0.001)

    async def synthesize(self, findings: Sequence[Finding], context: AnalysisContext, tools: Sequence[Tool]):
        self.synthesis_tools = [t.name for t in tools]
        if self.synthesis == "raise":
            raise RuntimeError("synthesis model said no")
        if self.synthesis == "hang":
            await asyncio.sleep(3600)
        return Synthesis(title="LLM title", diagnosis="We saw 900 requests and 12345 ghosts.",
                         recommendations=["do x"]), Usage(llm_calls=1, input_tokens=50)


def fake() -> FakeIngestion:
    return FakeIngestion().set("overview", overview(900, e5=9)).set("response_times", {"count": 900, "p95_ms": 100})


def analyzer(engine: Any, ingestion: FakeIngestion | None = None, **kw: Any) -> Analyzer:
    cfg = settings(specialist_deadline_s=kw.pop("deadline", 0.5), synthesis_deadline_s=kw.pop("synthesis_deadline", 0.5))
    return Analyzer(engine=engine, ingestion=IngestionClient((ingestion or fake()).client()), settings=cfg, **kw)


REQUEST = AnalyzeRequest(window="15m", end=END)


async def test_all_four_run_concurrently_and_findings_keep_their_order() -> None:
    engine = ScriptedEngine({name: ("sleep", 0.3, "ok") for name in ("latency", "errors", "saturation", "traffic")})
    report = await analyzer(engine, deadline=5).analyze(REQUEST)
    # Concurrent: every specialist started before any of them finished its 0.3 s of work
    # (sequential runs would start the second only after the first finished).
    assert max(engine.started.values()) < min(engine.finished.values()), "specialists ran one after another"
    assert [f.specialist for f in report.findings] == ["latency", "errors", "saturation", "traffic"]
    assert report.synthesis == "llm" and report.title == "LLM title"
    assert report.engine.llm_calls == 9 and report.engine.input_tokens == 450
    assert report.engine.kind == "anthropic" and report.engine.specialist_model == "fake-small"


async def test_one_raising_and_one_hanging_do_not_sink_the_others() -> None:
    engine = ScriptedEngine({"latency": "raise", "errors": "hang", "saturation": "critical", "traffic": ("sleep", 0.05, "warning")})
    report = await analyzer(engine, deadline=1.5).analyze(REQUEST)
    latency, errors, saturation, traffic = report.findings
    assert latency.status == "failed" and latency.severity == "unknown" and "boom in latency" in (latency.error or "")
    assert errors.status == "timed_out" and errors.severity == "unknown" and "1.5 s deadline" in (errors.error or "")
    assert saturation.status == "completed" and saturation.severity == "critical"
    assert report.ungrounded_claims == ["diagnosis: 12345"]  # failure reasons quoted are not claims
    assert traffic.status == "completed" and traffic.severity == "warning"
    assert report.overall_severity == "critical"


async def test_overall_severity_is_the_worst_known_finding() -> None:
    report = await analyzer(ScriptedEngine({"latency": "warning", "errors": "raise"})).analyze(REQUEST)
    assert report.overall_severity == "warning"
    report = await analyzer(ScriptedEngine({})).analyze(REQUEST)
    assert report.overall_severity == "ok"


async def test_failed_synthesis_falls_back_to_the_deterministic_one_and_says_so() -> None:
    for mode in ("raise", "hang"):
        engine = ScriptedEngine({"errors": "critical"}, synthesis=mode)
        report = await analyzer(engine).analyze(REQUEST)
        assert report.synthesis == "deterministic"
        assert report.synthesis_error and ("synthesis model said no" in report.synthesis_error or "0.5 s" in report.synthesis_error)
        assert report.title.startswith("Critical") and report.recommendations
        assert report.overall_severity == "critical"


async def test_numbers_without_evidence_are_listed_and_counted() -> None:
    registry = CollectorRegistry()
    metrics = AgentMetrics(registry)
    report = await analyzer(ScriptedEngine({}), metrics=metrics).analyze(REQUEST)
    assert report.ungrounded_claims == ["diagnosis: 12345"]
    assert registry.get_sample_value("oncall_ungrounded_claims_total") == 1
    assert registry.get_sample_value("oncall_analyses_total", {"engine": "anthropic", "outcome": "ok", "severity": "ok"}) == 1
    assert registry.get_sample_value("oncall_specialist_runs_total", {"specialist": "traffic", "status": "completed"}) == 1
    assert registry.get_sample_value("oncall_tool_calls_total", {"specialist": "latency", "tool": "get_response_times", "status": "ok"}) == 1
    assert registry.get_sample_value("oncall_analyses_in_progress") == 0


class PastIncidents:
    name = "search_past_incidents"
    description = "Search resolved incidents"
    input_schema: dict[str, Any] = {"type": "object", "properties": {"q": {"type": "string"}}}

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        return ToolResult.ok([])


async def test_extra_tools_reach_every_specialist_and_the_synthesis_and_similar_incidents_fill_in() -> None:
    seen: list[IncidentReport] = []

    async def similar(report: IncidentReport) -> list[SimilarIncident]:
        seen.append(report)
        return [SimilarIncident(incident_id=7, title="checkout slow", resolution="rolled back", score=0.9)]

    engine = ScriptedEngine({})
    report = await analyzer(engine, extra_tools=[PastIncidents()], similar_incidents=similar).analyze(REQUEST)
    assert all("search_past_incidents" in names for names in engine.seen_tools.values())
    assert engine.synthesis_tools == ["search_past_incidents"]
    assert report.similar_incidents[0].incident_id == 7 and seen[0].title == "LLM title"
    assert report.sources["incidents"] == "ok"

    async def broken(report: IncidentReport) -> list[SimilarIncident]:
        raise ConnectionError("redis gone")

    report = await analyzer(ScriptedEngine({}), similar_incidents=broken).analyze(REQUEST)
    assert report.similar_incidents == [] and report.sources["incidents"] == "unreachable"


async def test_unreachable_ingestion_still_gives_a_report() -> None:
    from agent_service.rules import RulesEngine

    client = IngestionClient.create(f"http://127.0.0.1:{free_port()}", timeout_s=1.0)
    try:
        report = await Analyzer(engine=RulesEngine(), ingestion=client, settings=settings()).analyze(REQUEST)
    finally:
        await client.aclose()
    assert report.sources["ingestion"] == "unreachable"
    assert all(f.status == "failed" and f.severity == "unknown" for f in report.findings)
    assert report.overall_severity == "warning"  # nothing known: never "ok"
    assert "ingestion-service" in report.recommendations[0]


async def test_report_saving_failure_is_reported_not_raised() -> None:
    async def save(report: IncidentReport) -> None:
        raise ConnectionError("redis down")

    report = await analyzer(ScriptedEngine({}), save_report=save).analyze(REQUEST)
    assert report.sources["redis"] == "unreachable"


async def test_limiter_refuses_past_the_limit_and_frees_slots() -> None:
    limiter = Limiter(1)
    async with limiter.try_slot():
        assert limiter.active == 1
        try:
            limiter.try_slot()
        except Busy:
            pass
        else:
            raise AssertionError("second slot granted")
    async with limiter.try_slot():
        pass
    assert limiter.active == 0


async def test_fallback_diagnosis_quoting_a_deadline_has_no_ungrounded_claims() -> None:
    engine = ScriptedEngine({"errors": "hang", "latency": "critical"}, synthesis="raise")
    report = await analyzer(engine, deadline=0.5).analyze(REQUEST)
    assert "0.5 s deadline" in report.diagnosis
    assert "900" in report.diagnosis  # the latency summary, from the evidence
    assert report.ungrounded_claims == []

"""Agent benchmarks (`make bench BENCH_ARGS=agent`).

1. Concurrency of the Claude engine: a fake Messages API answers every call after a fixed delay
   (300 ms) and makes 3 tool turns per specialist. The four specialists run concurrently, then the
   synthesis. Wall time is compared with the slowest specialist + the synthesis (the concurrency
   ratio, target <= 1.2) and with the sequential sum (target >= 3x faster). Measured twice: the
   engine driven directly (as the orchestrator does), and POST /analyze on a real agent-service
   (LLM_ENGINE=anthropic, ANTHROPIC_BASE_URL at the fake) over a real ingestion-service + redis.
2. Rules engine: POST /analyze p50/p95 on a local stack (redis-server, ingestion-service,
   agent-service with LLM_ENGINE=rules) after ingesting 1M generated HAProxy requests
   (target p95 < 150 ms).

Options: --delay-ms N, --tool-turns N, --runs N, --requests N, --analyses N, --skip-stack, --skip-rules.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from agent_service.engine import AnalysisContext
from agent_service.llm.client import LlmConfig
from agent_service.llm.anthropic_engine import AnthropicEngine
from agent_service.models import Finding, Scope, Window
from agent_service.settings import Settings
from agent_service.specialists import specialist_specs
from agent_service.tools.base import ToolResult
from bench.agent_stack import Stack, ingest_generated
from tests.fakes.anthropic_api import FakeAnthropic, agent_script

KEY = "bench-key"

class _StaticTool:
    def __init__(self, name: str) -> None:
        self.name = name
        self.description = f"bench tool {name}"
        self.input_schema: dict[str, Any] = {"type": "object", "properties": {}}

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        return ToolResult.ok({"tool": self.name, "p95_ms": 120.5, "requests": 12000})

def _context() -> AnalysisContext:
    now = datetime.now(UTC)
    return AnalysisContext(window=Window(start=now - timedelta(minutes=15), end=now, seconds=900), scope=Scope())

def _ratio_line(label: str, wall: float, slowest: float, synth: float, sequential: float) -> str:
    return (
        f"{label}: wall {wall * 1000:.0f} ms | slowest specialist + synthesis {(slowest + synth) * 1000:.0f} ms "
        f"→ concurrency ratio {wall / (slowest + synth):.2f} (target <= 1.2) | sequential sum "
        f"{sequential * 1000:.0f} ms → {sequential / wall:.2f}x faster (target >= 3x)"
    )

async def _direct_once(engine: AnthropicEngine, tool_names: dict[str, tuple[str, ...]]) -> tuple[float, float, float, float]:
    specs = specialist_specs(Settings())
    context = _context()
    started = time.perf_counter()
    results = await asyncio.gather(
        *(engine.investigate(spec, [_StaticTool(n) for n in tool_names[name]], context) for name, spec in specs.items())
    )
    findings: list[Finding] = [f for f, _ in results]
    assert all(f.status == "completed" for f in findings), [f.error for f in findings]
    synth_started = time.perf_counter()
    await engine.synthesize(findings, context, [])
    ended = time.perf_counter()
    durations = [f.duration_ms / 1000 for f in findings]
    return ended - started, max(durations), ended - synth_started, sum(durations) + (ended - synth_started)

async def _direct_sequential(engine: AnthropicEngine, tool_names: dict[str, tuple[str, ...]]) -> float:
    specs = specialist_specs(Settings())
    context = _context()
    started = time.perf_counter()
    findings = [
        (await engine.investigate(spec, [_StaticTool(n) for n in tool_names[name]], context))[0]
        for name, spec in specs.items()
    ]
    await engine.synthesize(findings, context, [])
    return time.perf_counter() - started

def bench_direct(url: str, runs: int) -> None:
    specs = specialist_specs(Settings())
    tool_names = {name: spec.tool_names for name, spec in specs.items()}

    async def go() -> None:
        engine = AnthropicEngine(LlmConfig(api_key=KEY, base_url=url, max_steps=6))
        try:
            await _direct_once(engine, tool_names)  # warm-up (connections, imports)
            rows = [await _direct_once(engine, tool_names) for _ in range(runs)]
            wall, slowest, synth, seq = (statistics.median(col) for col in zip(*rows, strict=True))
            print(_ratio_line(f"engine direct (median of {runs})", wall, slowest, synth, seq))
            real_seq = await _direct_sequential(engine, tool_names)
            print(f"engine direct, really run one after the other: {real_seq * 1000:.0f} ms → {real_seq / wall:.2f}x the concurrent wall time")
        finally:
            await engine.aclose()

    asyncio.run(go())

def bench_stack_llm(fake: FakeAnthropic, url: str, runs: int) -> None:
    env = {
        "LLM_ENGINE": "anthropic",
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": url,
        "MAX_STEPS": "6",
    }
    with Stack(agent_env=env) as stack:
        ingest_generated(stack.ingestion_url, 20_000)
        rows = []
        for run in range(runs + 1):
            first = len(fake.requests)
            started = time.perf_counter()
            answer = httpx.post(f"{stack.agent_url}/analyze", json={}, timeout=120)
            wall = time.perf_counter() - started
            answer.raise_for_status()
            report = answer.json()
            statuses = [f["status"] for f in report["findings"]]
            synth_calls = [r for r in fake.requests[first:] if any(t["name"] == "report_synthesis" for t in r.body.get("tools", []))]
            synth = sum((r.answered_at or r.received_at) - r.received_at for r in synth_calls)
            durations = [f["duration_ms"] / 1000 for f in report["findings"]]
            if run == 0:
                print(f"/analyze warm-up: findings {statuses}, synthesis={report['synthesis']}, "
                      f"llm_calls={report['engine']['llm_calls']}, tool_calls={report['engine']['tool_calls']}, "
                      f"sources={report['sources']}")
                continue
            rows.append((wall, max(durations), synth, sum(durations) + synth))
        wall, slowest, synth, seq = (statistics.median(col) for col in zip(*rows, strict=True))
        print(_ratio_line(f"POST /analyze, real agent-service (median of {runs})", wall, slowest, synth, seq))

def bench_rules(requests: int, analyses: int) -> None:
    with Stack(agent_env={"LLM_ENGINE": "rules"}) as stack:
        started = time.perf_counter()
        ingest_generated(stack.ingestion_url, requests)
        took = time.perf_counter() - started
        print(f"ingested {requests:,} generated requests in {took:.1f} s ({requests / took:,.0f} lines/s)")
        with httpx.Client(base_url=stack.agent_url, timeout=30) as client:
            for _ in range(5):
                client.post("/analyze", json={}).raise_for_status()
            latencies, server = [], []
            for _ in range(analyses):
                t0 = time.perf_counter()
                answer = client.post("/analyze", json={})
                latencies.append((time.perf_counter() - t0) * 1000)
                answer.raise_for_status()
                server.append(answer.json()["duration_ms"])
            report = answer.json()
        qs = statistics.quantiles(latencies, n=100)
        print(f"rules /analyze over {analyses} requests: p50 {statistics.median(latencies):.1f} ms, "
              f"p95 {qs[94]:.1f} ms (target < 100 ms), max {max(latencies):.1f} ms; "
              f"server-side duration_ms p50 {statistics.median(server):.1f}")
        print(f"  last report: severity={report['overall_severity']}, findings="
              f"{[(f['specialist'], f['severity']) for f in report['findings']]}, sources={report['sources']}")

def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench agent")
    parser.add_argument("--delay-ms", type=float, default=300.0)
    parser.add_argument("--tool-turns", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--analyses", type=int, default=200)
    parser.add_argument("--skip-stack", action="store_true")
    parser.add_argument("--skip-rules", action="store_true")
    args = parser.parse_args(argv)

    print(f"## Claude engine concurrency: fake LLM answering after {args.delay_ms:g} ms, "
          f"{args.tool_turns} tool turns per specialist, 4 specialists + synthesis")
    fake = FakeAnthropic(api_key=KEY, delay_ms=args.delay_ms).respond_with(agent_script(args.tool_turns))
    with ExitStack() as stack:
        url = stack.enter_context(fake.serve())
        bench_direct(url, args.runs)
        if not args.skip_stack:
            bench_stack_llm(fake, url, args.runs)
    if not args.skip_rules:
        print(f"## Rules engine: POST /analyze on a local stack with {args.requests:,} ingested requests")
        bench_rules(args.requests, args.analyses)

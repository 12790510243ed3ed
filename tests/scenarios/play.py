"""Play one scenario against a stack: generate, ingest, analyze, score."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.scenarios import redis_fill
from tests.scenarios.generator import Generated, generate
from tests.scenarios.model import Scenario, seconds
from tests.scenarios.replay import (
    UDP_RATE,
    IngestResult,
    Transport,
    analyze,
    ingest_http,
    ingest_syslog,
    paced,
    post_events,
    split_mixed,
)
from tests.scenarios.score import Score, failed, score
from tests.scenarios.stack import Stack
from tests.scenarios.stats import WindowStats, minute_window, window_stats


@dataclass
class Outcome:
    scenario: Scenario
    score: Score
    generated: Generated
    ingest: IngestResult | None
    report: dict[str, Any] | None
    local: WindowStats  # what the generated lines say over the analysis window

    def to_dict(self) -> dict[str, Any]:
        local = self.local
        return {
            "scenario": self.scenario.name,
            "description": self.scenario.description.strip(),
            "score": self.score.to_dict(),
            "lines": len(self.generated.requests) + len(self.generated.messages),
            "ingest": None if self.ingest is None else {
                "accepted": self.ingest.accepted, "rejected": self.ingest.rejected,
                "skipped": self.ingest.skipped, "seconds": round(self.ingest.seconds, 3),
                "errors": self.ingest.errors[:5],
            },
            "window_stats": {
                "requests": local.total, "rps": round(local.rps, 2),
                "error_rate_4xx_pct": round(local.rate_4xx_pct, 2),
                "error_rate_5xx_pct": round(local.rate_5xx_pct, 2),
                "p95_ms": local.p95_ms, "p99_ms": local.p99_ms, "max_srv_queue": local.max_srv_queue,
            },
            "report": self.report,
        }


def data_end(*, realtime: bool, aligned: bool, scenario: Scenario) -> float:
    """Where the scenario's last line falls: now; the last whole minute; or, in real time, ahead."""
    now = time.time()
    if realtime:
        return now + scenario.duration
    return math.floor(now / 60) * 60 - 0.001 if aligned else now


def play(scenario: Scenario, stack: Stack, *, transport: Transport = "http", realtime: bool = False,
         aligned: bool = False, pass_end: bool = True, flush: bool = True, udp_rate: float = UDP_RATE) -> Outcome:
    if flush:
        stack.flush()
    end = data_end(realtime=realtime, aligned=aligned, scenario=scenario)
    generated = generate(scenario, end=end)
    window = seconds(scenario.analyze.window)
    local = window_stats(generated.requests, *minute_window(end, window))
    ingest: IngestResult | None = None
    report: dict[str, Any] | None = None
    wall_ms = 0.0
    try:
        ingest = _ingest(generated, stack, transport=scenario.transport or transport, realtime=realtime,
                         name=scenario.name, udp_rate=udp_rate)
        if scenario.redis is not None:
            if stack.redis_url is None:
                raise RuntimeError("this scenario fills Redis: give the runner the stack's --redis-url")
            redis_fill.fill(stack.redis_url, scenario.redis)
        post_events(scenario, stack.agent_url, start=generated.start, token=stack.api_token)
        analysis_end = datetime.fromtimestamp(end, tz=UTC) if pass_end else None
        report, wall_ms = analyze(scenario, stack.agent_url, end=analysis_end, token=stack.api_token)
        result = score(scenario.name, scenario.expect, report, wall_ms=wall_ms)
    except (httpx.HTTPError, RuntimeError) as exc:
        result = failed(scenario.name, scenario.expect, f"{type(exc).__name__}: {exc}", wall_ms=wall_ms)
    finally:
        if scenario.redis is not None and stack.redis_url is not None:
            redis_fill.release(stack.redis_url)
    if ingest is not None and ingest.rejected:
        result.reasons.append(f"ingestion rejected {ingest.rejected} generated lines: {ingest.errors[:3]}")
        result.passed = False
    return Outcome(scenario, result, generated, ingest, report, local)


def _ingest_mixed(generated: Generated, stack: Stack, *, name: str, udp_rate: float) -> IngestResult:
    """HTTP bodies mixing headerless and syslog-header lines, and a share of the lines over UDP."""
    http, udp = split_mixed(generated.lines("mixed"), generated.lines("syslog"), seed=generated.scenario.seed)
    posted = ingest_http(http, stack.ingestion_url, token=stack.ingest_token, request_id=f"scenario-{name}")
    if stack.syslog_port is None:
        raise RuntimeError("the stack has no syslog UDP port")
    sent = ingest_syslog(udp, "127.0.0.1", stack.syslog_port, base_url=stack.ingestion_url,
                         expected_requests=len(generated.requests), rate=udp_rate, token=stack.ingest_token)
    return IngestResult(sent.accepted, posted.rejected, posted.skipped, posted.errors, posted.seconds + sent.seconds)


def _ingest(generated: Generated, stack: Stack, *, transport: Transport, realtime: bool, name: str,
            udp_rate: float) -> IngestResult:
    if transport != "http":
        if stack.syslog_port is None:
            raise RuntimeError("the stack has no syslog UDP port")
        if realtime:
            raise RuntimeError("real-time replay is HTTP only")
    if transport == "mixed":
        return _ingest_mixed(generated, stack, name=name, udp_rate=udp_rate)
    if transport == "syslog":
        return ingest_syslog(generated.lines("syslog"), "127.0.0.1", stack.syslog_port,
                             base_url=stack.ingestion_url, expected_requests=len(generated.requests),
                             rate=udp_rate, token=stack.ingest_token)
    if not realtime:
        return ingest_http(generated.lines("raw"), stack.ingestion_url, token=stack.ingest_token,
                           request_id=f"scenario-{name}")
    total = IngestResult(0, 0, 0, [], 0.0)
    for number, batch in enumerate(paced(generated.timed_lines("raw"))):
        part = ingest_http(batch, stack.ingestion_url, token=stack.ingest_token,
                           request_id=f"scenario-{name}-rt{number}")
        total = IngestResult(total.accepted + part.accepted, total.rejected + part.rejected,
                             total.skipped + part.skipped, (total.errors + part.errors)[:100],
                             total.seconds + part.seconds)
    return total

"""The rules engine's only I/O: tool calls (through the Recorder, which keeps every answer as
evidence) turned into each specialist's typed facts. What to ask next may depend on a first grade
(the window before only when something is slow, backend probes only when the bound can pass)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from agent_service.rules.errors import ErrorFacts, backends_to_probe
from agent_service.rules.facts import backend_stats, counts
from agent_service.rules.latency import LatencyFacts, Quantiles
from agent_service.rules.recorder import Recorder
from agent_service.rules.saturation import HAPROXY_KEYS, SaturationFacts
from agent_service.rules.traffic import TrafficFacts, needs_latest, tail_minutes
from agent_service.rules.verdict import CheckInput
from agent_service.specialists.specs import ErrorsThresholds, SaturationThresholds, TrafficThresholds
from agent_service.tools import registry as tool


def _haproxy(answer: Mapping[str, Any] | None) -> dict[str, float]:
    raw = (answer or {}).get("haproxy") or {}
    return {k: raw[k] for k in HAPROXY_KEYS if raw.get(k) is not None}


def _requests(answer: object) -> dict[str, int]:
    rows = (answer or {}).get("backends", []) if isinstance(answer, dict) else []
    return {b["name"]: int(b.get("requests") or 0) for b in rows}


async def fetch_errors(rec: Recorder, inp: CheckInput, th: ErrorsThresholds) -> ErrorFacts:
    window = {"window": inp.window}
    ov, codes, backends = await rec.call_many(
        [(tool.OVERVIEW, window), (tool.STATUS_CODES, window), (tool.BACKENDS, window)]
    )
    if ov is None:
        raise LookupError("; ".join(rec.errors) or "no overview")
    facts = ErrorFacts(
        requests=int(ov.get("total_requests") or 0), errors_4xx=int(ov.get("errors_4xx") or 0),
        rate_5xx=float(ov.get("error_rate_5xx_pct") or 0.0), rate_4xx=float(ov.get("error_rate_4xx_pct") or 0.0),
        codes=counts(codes, "status_codes"), backends=backend_stats(backends),
    )
    probes = backends_to_probe(facts, th)
    answers = await rec.call_many([(tool.STATUS_CODES, {"window": inp.window, "backend": n}) for n in probes])
    scoped = {name: counts(answer, "status_codes") for name, answer in zip(probes, answers, strict=True)}
    return replace(facts, backend_codes=scoped)


async def fetch_latency(rec: Recorder, inp: CheckInput) -> LatencyFacts:
    rt, backends = await rec.call_many(
        [(tool.RESPONSE_TIMES, {"window": inp.window}), (tool.BACKENDS, {"window": inp.window})]
    )
    if rt is None and backends is None:
        raise LookupError("; ".join(rec.errors) or "no latency data")
    return LatencyFacts(site=Quantiles.of(rt), backends=backend_stats(backends))


async def fetch_latency_before(rec: Recorder, inp: CheckInput, facts: LatencyFacts) -> LatencyFacts:
    """Like with like: the site against the site's previous window, each backend against its own."""
    rt, backends = await rec.call_many([
        (tool.RESPONSE_TIMES, {"window": inp.window, "end": inp.end_of_previous}),
        (tool.BACKENDS, {"window": inp.window, "end": inp.end_of_previous}),
    ])
    return replace(facts, previous_site=None if rt is None else Quantiles.of(rt),
                   previous_backends={b.name: b for b in backend_stats(backends)})


async def fetch_saturation(rec: Recorder, inp: CheckInput) -> SaturationFacts:
    window = {"window": inp.window}
    sat, ov = await rec.call_many([(tool.SATURATION, window), (tool.OVERVIEW, window)])
    if sat is None:
        raise LookupError("; ".join(rec.errors) or "no saturation data")
    return SaturationFacts(requests=int((ov or {}).get("total_requests") or 0), haproxy=_haproxy(sat),
                           redis=dict(sat.get("redis") or {}))


async def fetch_queueing(
    rec: Recorder, inp: CheckInput, facts: SaturationFacts, th: SaturationThresholds
) -> SaturationFacts:
    """What explains sustained queueing: termination states, latency, and the busiest backends' queues."""
    window = {"window": inp.window}
    states, rt, backends = await rec.call_many(
        [(tool.TERMINATION_STATES, window), (tool.RESPONSE_TIMES, window), (tool.BACKENDS, window)]
    )
    ranked = [b.name for b in sorted(backend_stats(backends), key=lambda b: -b.requests) if b.requests >= th.min_requests]
    ranked = ranked[: th.max_backend_probes]
    answers = await rec.call_many([(tool.SATURATION, {"window": inp.window, "backend": name}) for name in ranked])
    return replace(facts, states=counts(states, "termination_states"), p95_ms=(rt or {}).get("p95_ms"),
                   p99_ms=(rt or {}).get("p99_ms"),
                   backend_haproxy={name: _haproxy(a) for name, a in zip(ranked, answers, strict=True)})


async def fetch_traffic(rec: Recorder, inp: CheckInput, th: TrafficThresholds) -> TrafficFacts:
    ov, rps, backends, prev_backends = await rec.call_many([
        (tool.OVERVIEW, {"window": inp.window}),
        (tool.RPS_SERIES, {"minutes": inp.minutes * 2}),
        (tool.BACKENDS, {"window": inp.window}),
        (tool.BACKENDS, {"window": inp.window, "end": inp.end_of_previous}),
    ])
    if ov is None and rps is None:
        raise LookupError("; ".join(rec.errors) or "no traffic data")
    ov = ov or {}
    previous = ov.get("previous") or {}
    both = [int(p.get("requests") or 0) for p in (rps or {}).get("series", [])]
    facts = TrafficFacts(
        minutes=inp.minutes, requests=int(ov.get("total_requests") or 0),
        previous_requests=int(previous.get("total_requests") or 0),
        rps=float(ov.get("rps") or 0), previous_rps=float(previous.get("rps") or 0),
        series=tuple(both[-inp.minutes :]), before=tuple(both[: -inp.minutes]),
        backends=_requests(backends), previous_backends=_requests(prev_backends),
    )
    if not needs_latest(facts, th):
        return facts
    latest = await rec.call(tool.BACKENDS, window=f"{tail_minutes(inp.minutes)}m")
    return facts if latest is None else replace(facts, latest_backends=_requests(latest))


async def fetch_termination_states(rec: Recorder, inp: CheckInput) -> dict[str, int]:
    return counts(await rec.call(tool.TERMINATION_STATES, window=inp.window), "termination_states")

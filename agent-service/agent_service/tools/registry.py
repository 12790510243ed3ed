"""The ingestion tool set, by name."""

from __future__ import annotations

from typing import Any

from agent_service.ingestion_client import IngestionClient
from agent_service.tools.ingestion import Defaults, IngestionTool, RpsArgs, ScopeArgs, SourceTracker

OVERVIEW = "get_overview"
STATUS_CODES = "get_status_codes"
RESPONSE_TIMES = "get_response_times"
RPS_SERIES = "get_rps_series"
BACKENDS = "get_backends"
FRONTENDS = "get_frontends"
SATURATION = "get_saturation"
TERMINATION_STATES = "get_termination_states"
BREAKDOWN = "get_breakdown"

TOOL_NAMES: tuple[str, ...] = (
    OVERVIEW,
    STATUS_CODES,
    RESPONSE_TIMES,
    RPS_SERIES,
    BACKENDS,
    FRONTENDS,
    SATURATION,
    TERMINATION_STATES,
)

_DESCRIPTIONS = {
    OVERVIEW: "Request totals, 4xx/5xx counts and rates (%) and requests per second for the window, "
    "with the same figures for the window just before it under `previous` (for trends).",
    STATUS_CODES: "Count of each HTTP status code in the window (e.g. {'200': 1200, '503': 40}).",
    RESPONSE_TIMES: "Latency of HAProxy's total active time Ta in the window: count, p50/p90/p95/p99 "
    "and max, in milliseconds.",
    RPS_SERIES: "Requests per minute for the last `minutes` minutes before `end`, zero-filled, oldest "
    "first: a drop to zero shows as zeros.",
    BACKENDS: "Per HAProxy backend in the window: requests, 5xx rate (%), p95 and p99 latency (ms).",
    FRONTENDS: "Per HAProxy frontend in the window: requests, 5xx rate (%), p95 and p99 latency (ms).",
    SATURATION: "Saturation: Redis memory (bytes, % of maxmemory), clients, evictions; HAProxy "
    "highest actconn, srv_conn, server and backend queue lengths, queued requests and retries.",
    TERMINATION_STATES: "Count of HAProxy termination states in the window (e.g. '----' normal, "
    "'sH--' server timeout, 'SC--' connection refused, 'sQ--' queue timeout, 'CD--' client abort).",
}


def build_tools(
    client: IngestionClient,
    defaults: Defaults,
    tracker: SourceTracker,
    *,
    max_chars: int = 16_000,
) -> dict[str, IngestionTool]:
    fetches: dict[str, Any] = {
        OVERVIEW: lambda c, a: c.overview(**a),
        STATUS_CODES: lambda c, a: c.status_codes(**a),
        RESPONSE_TIMES: lambda c, a: c.response_times(**a),
        RPS_SERIES: lambda c, a: c.rps(**a),
        BACKENDS: lambda c, a: c.backends(**a),
        FRONTENDS: lambda c, a: c.frontends(**a),
        SATURATION: lambda c, a: c.saturation(**a),
        TERMINATION_STATES: lambda c, a: c.termination_states(**a),
    }
    tools: dict[str, IngestionTool] = {}
    for name in TOOL_NAMES:
        rps = name == RPS_SERIES
        tools[name] = IngestionTool(
            name=name,
            description=_DESCRIPTIONS[name],
            fetch=fetches[name],
            client=client,
            defaults=defaults,
            tracker=tracker,
            args_model=RpsArgs if rps else ScopeArgs,
            max_chars=max_chars,
        )
    return tools

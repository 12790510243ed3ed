"""The ingestion tool set, by name."""

from __future__ import annotations

from typing import Any

from agent_service.ingestion_client import IngestionClient
from agent_service.tools.ingestion import BreakdownArgs, Defaults, IngestionTool, RpsArgs, ScopeArgs, SourceTracker

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
    BREAKDOWN,
)

_DESCRIPTIONS = {
    OVERVIEW: "Request totals, 4xx/5xx counts and rates (%) and requests per second for the window, "
    "with the same figures for the window just before it under `previous` (for trends).",
    STATUS_CODES: "Count of each HTTP status code in the window (e.g. {'200': 1200, '503': 40}).",
    RESPONSE_TIMES: "Latency of HAProxy's total active time Ta in the window: count, p50/p90/p95/p99 "
    "and max, in milliseconds; under `tr` the server response time Tr (count, p50/p95/p99, max): "
    "Ta includes the client's own time (a client that vanishes holds Ta up to the client timeout), "
    "Tr is the server's alone, so judge server latency on Tr. Tr quantiles are null where unknown "
    "(a frontend sharing a backend with another frontend).",
    RPS_SERIES: "Requests per minute for the last `minutes` minutes before `end`, zero-filled, oldest "
    "first: a drop to zero shows as zeros.",
    BACKENDS: "Per HAProxy backend in the window: requests, 5xx rate (%), p95 and p99 latency Ta (ms), "
    "tr_p95_ms (server response time Tr p95), retries (sum of HAProxy retry counts), redispatches "
    "(requests sent to another server after failures), client_aborts (termination state C… or c…); "
    "`servers` gives the same per server (tr_p95_ms null there: compare servers on p95_ms).",
    FRONTENDS: "Per HAProxy frontend in the window: requests, 5xx rate (%), p95 and p99 latency (ms).",
    SATURATION: "Saturation: Redis memory (bytes, % of maxmemory), clients, evictions; HAProxy "
    "highest actconn, srv_conn, server and backend queue lengths, queued requests and retries.",
    BREAKDOWN: "Every scope at once (site, each frontend, each backend, each server; `routes` says which "
    "frontend feeds which backend), each over the window AND a baseline (default the 60 minutes before "
    "the window; `baseline_end` moves it, e.g. before an incident's onset). Per span: requests, 4xx/5xx, "
    "status codes, termination states ('SC--' refused, 'sH--' server timeout, 'sQ--' queue timeout, "
    "'cD--'/'CD--' client side), retries, retried_requests, redispatches, queued (Tw>0), client_aborts, "
    "max queues and connections, `ta` and `tr` (count, p50/p90/p95/p99, max, mean ms; Tr = server time, "
    "null quantiles for servers), tc_mean_ms/tc_max_ms (connect time), tw_mean_ms (queue wait); and "
    "per-minute columns (requests, errors, retries, redispatches, queued, client_aborts, "
    "server_failures, ta_mean_ms, tr_mean_ms) to see when something started and whether it stopped. "
    "Filter with backend= or frontend= to keep the result small.",
    TERMINATION_STATES: "Count of HAProxy termination states in the window (e.g. '----' normal, "
    "'sH--' server timeout, 'SC--' connection refused, 'sQ--' queue timeout, 'CD--' client abort).",
}


# The breakdown is the rules engine's whole input: it is never cut to the LLM's tool-result limit
# here (the model's view of it is cut where its tool results are rendered), only bounded.
BREAKDOWN_MAX_CHARS = 2_000_000


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
        BREAKDOWN: lambda c, a: c.breakdown(**a),
    }
    args_models: dict[str, type[ScopeArgs]] = {RPS_SERIES: RpsArgs, BREAKDOWN: BreakdownArgs}
    tools: dict[str, IngestionTool] = {}
    for name in TOOL_NAMES:
        tools[name] = IngestionTool(
            name=name,
            description=_DESCRIPTIONS[name],
            fetch=fetches[name],
            client=client,
            defaults=defaults,
            tracker=tracker,
            args_model=args_models.get(name, ScopeArgs),
            max_chars=max(max_chars, BREAKDOWN_MAX_CHARS) if name == BREAKDOWN else max_chars,
        )
    return tools

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class LineError(BaseModel):
    line: int
    reason: str


class IngestResponse(BaseModel):
    accepted: int
    rejected: int
    skipped: int
    errors: list[LineError]


class OverviewWindow(BaseModel):
    window_seconds: int
    total_requests: int
    errors_4xx: int
    errors_5xx: int
    error_rate_4xx_pct: float
    error_rate_5xx_pct: float
    rps: float


class Overview(OverviewWindow):
    previous: OverviewWindow


class StatusCodes(BaseModel):
    window_seconds: int
    status_codes: dict[str, int]


class TerminationStates(BaseModel):
    window_seconds: int
    termination_states: dict[str, int]


class TrTimes(BaseModel):
    """HAProxy's Tr (server response time): quantiles null when empty or where the scope keeps no
    Tr sketch (servers; a frontend sharing a backend with another frontend)."""

    count: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class Latency(BaseModel):
    count: int
    p50_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class ResponseTimes(Latency):
    window_seconds: int
    tr: TrTimes


class RpsPoint(BaseModel):
    minute: str
    requests: int
    rps: float


class RpsSeries(BaseModel):
    window_seconds: int
    series: list[RpsPoint]


class RetrySignals(BaseModel):
    tr_p95_ms: float | None = None  # Tr p95: null where the scope keeps no Tr sketch (servers)
    retries: int = 0  # sum of HAProxy's retry counts
    redispatches: int = 0  # requests redispatched to another server (`+` before retries)
    client_aborts: int = 0  # requests whose termination state starts with C or c


class NamedSignals(RetrySignals):
    name: str
    requests: int
    error_rate_5xx_pct: float
    p95_ms: float | None
    p99_ms: float | None


class ServerSignals(RetrySignals):
    name: str
    requests: int
    errors_5xx: int
    error_rate_5xx_pct: float
    p95_ms: float | None


class BackendSignals(NamedSignals):
    servers: list[ServerSignals] = []  # per backend/server, most requests first


class Backends(BaseModel):
    window_seconds: int
    backends: list[BackendSignals]


class Frontends(BaseModel):
    window_seconds: int
    frontends: list[NamedSignals]


class RedisSaturation(BaseModel):
    used_memory_bytes: int
    maxmemory_bytes: int
    memory_pct: float | None
    connected_clients: int
    blocked_clients: int
    rejected_connections: int
    evicted_keys: int


class HaproxySaturation(BaseModel):
    max_actconn: int
    max_srv_conn: int
    max_srv_queue: int
    max_backend_queue: int
    queued_requests: int
    retries: int


class Saturation(BaseModel):
    window_seconds: int
    redis: RedisSaturation
    haproxy: HaproxySaturation


class Span(BaseModel):
    start: str  # RFC 3339, the first whole minute read
    end: str  # RFC 3339, the end of the last minute read
    seconds: int


class TimerStats(Latency):
    mean_ms: float | None


class BreakdownStats(BaseModel):
    requests: int
    errors_4xx: int
    errors_5xx: int
    status_codes: dict[str, int]
    terminations: dict[str, int]  # every state seen, "----" included
    retries: int  # sum of retry counts
    retried_requests: int
    redispatches: int
    queued: int  # requests with Tw > 0
    client_aborts: int  # termination state starting with C or c
    max_srv_queue: int | None
    max_backend_queue: int | None
    max_actconn: int | None
    max_srv_conn: int | None
    ta: TimerStats
    tr: TimerStats  # quantiles null where the scope keeps no Tr sketch (servers)
    tc_mean_ms: float | None
    tc_max_ms: float | None
    tw_mean_ms: float | None


class BreakdownMinutes(BaseModel):
    start: str | None  # RFC 3339 of the first minute
    requests: list[int]
    errors_4xx: list[int]
    errors_5xx: list[int]
    retries: list[int]
    redispatches: list[int]
    queued: list[int]
    client_aborts: list[int]
    server_failures: list[int]  # termination state starting with S or s
    ta_mean_ms: list[float | None]
    tr_mean_ms: list[float | None]


class BreakdownScope(BaseModel):
    kind: Literal["site", "frontend", "backend", "server"]
    name: str  # "" for the site, "be_api/api1" for a server
    backend: str | None
    server: str | None
    routes: list[str]  # a frontend: its backends; a backend: its frontends
    window: BreakdownStats
    baseline: BreakdownStats
    window_minutes: BreakdownMinutes
    baseline_minutes: BreakdownMinutes


class Breakdown(BaseModel):
    window: Span
    baseline: Span
    scopes: list[BreakdownScope]

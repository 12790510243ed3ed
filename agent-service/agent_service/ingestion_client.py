"""A typed client of the ingestion-service query API (contract in ARCHITECTURE.md).

The agent never imports ingestion_service: these models mirror the JSON shapes of the contract.
They allow extra fields, so what ingestion adds later reaches the tools unchanged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oncall_common.request_id import async_client


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class OverviewCounts(_Open):
    window_seconds: int = 0
    total_requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    error_rate_4xx_pct: float = 0.0
    error_rate_5xx_pct: float = 0.0
    rps: float = 0.0


class Overview(OverviewCounts):
    previous: OverviewCounts | None = None


class StatusCodes(_Open):
    window_seconds: int = 0
    status_codes: dict[str, int] = Field(default_factory=dict)


class ResponseTimes(_Open):
    window_seconds: int = 0
    count: int = 0
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None


class RpsPoint(_Open):
    minute: datetime
    requests: int = 0
    rps: float = 0.0


class RpsSeries(_Open):
    series: list[RpsPoint] = Field(default_factory=list)


class ScopeStats(_Open):
    name: str
    requests: int = 0
    error_rate_5xx_pct: float = 0.0
    p95_ms: float | None = None
    p99_ms: float | None = None


class Backends(_Open):
    backends: list[ScopeStats] = Field(default_factory=list)


class Frontends(_Open):
    frontends: list[ScopeStats] = Field(default_factory=list)


class RedisSaturation(_Open):
    used_memory_bytes: int | None = None
    maxmemory_bytes: int | None = None
    memory_pct: float | None = None
    connected_clients: int | None = None
    blocked_clients: int | None = None
    rejected_connections: int | None = None
    evicted_keys: int | None = None


class HaproxySaturation(_Open):
    max_actconn: int | None = None
    max_srv_conn: int | None = None
    max_srv_queue: int | None = None
    max_backend_queue: int | None = None
    queued_requests: int | None = None
    retries: int | None = None


class Saturation(_Open):
    redis: RedisSaturation = Field(default_factory=RedisSaturation)
    haproxy: HaproxySaturation = Field(default_factory=HaproxySaturation)


class TerminationStates(_Open):
    window_seconds: int | None = None
    termination_states: dict[str, int] = Field(default_factory=dict)


class Span(_Open):
    start: datetime
    end: datetime
    seconds: int


class BreakdownScope(_Open):
    """One scope of /metrics/breakdown; its Stats and Minutes are passed through as they come
    (their fields: ingestion's docs/architecture.md)."""

    kind: str
    name: str
    backend: str | None = None
    server: str | None = None
    routes: list[str] = Field(default_factory=list)
    window: dict[str, Any] = Field(default_factory=dict)
    baseline: dict[str, Any] = Field(default_factory=dict)
    window_minutes: dict[str, Any] = Field(default_factory=dict)
    baseline_minutes: dict[str, Any] = Field(default_factory=dict)


class Breakdown(_Open):
    window: Span
    baseline: Span
    scopes: list[BreakdownScope] = Field(default_factory=list)


@dataclass(frozen=True)
class MinuteSignal:
    """One minute of a scope's golden signals (start of the minute): what the first-bad-minute
    search (incidents/impact.py) judges."""

    minute: datetime
    requests: int
    error_5xx_pct: float
    p95_ms: float | None


class IngestionError(Exception):
    """Ingestion answered, but not with what was asked (4xx/5xx or an unreadable body)."""


class IngestionUnreachable(IngestionError):
    """No answer: connection refused, DNS, or a timeout."""


M = TypeVar("M", bound=BaseModel)


class IngestionClient:
    """`token` (INGESTION_READ_TOKEN) goes as `Authorization: Bearer …` on every request."""

    def __init__(self, http: httpx.AsyncClient, *, token: str | None = None) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    @classmethod
    def create(cls, base_url: str, *, timeout_s: float, token: str | None = None) -> IngestionClient:
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0))
        return cls(async_client(base_url=base_url, timeout=timeout), token=token)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _get(self, path: str, model: type[M], params: dict[str, Any]) -> M:
        query = {k: _param(v) for k, v in params.items() if v is not None}
        try:
            response = await self.http.get(path, params=query, headers=self.headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.PoolTimeout) as exc:
            raise IngestionUnreachable(f"ingestion-service unreachable ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise IngestionUnreachable(f"ingestion-service request failed ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            raise IngestionError(f"ingestion-service answered {response.status_code} on {path}")
        if response.status_code >= 400:
            raise IngestionError(
                f"ingestion-service rejected the query on {path} ({response.status_code}): "
                f"{_detail(response)}"
            )
        try:
            return model.model_validate(_normalise(model, response.json()))
        except (ValueError, ValidationError) as exc:
            raise IngestionError(f"unexpected answer from {path}: {str(exc)[:300]}") from exc

    async def health(self) -> bool:
        try:
            response = await self.http.get("/health", headers=self.headers)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def overview(self, **scope: Any) -> Overview:
        return await self._get("/metrics/overview", Overview, scope)

    async def status_codes(self, **scope: Any) -> StatusCodes:
        return await self._get("/metrics/status-codes", StatusCodes, scope)

    async def response_times(self, **scope: Any) -> ResponseTimes:
        return await self._get("/metrics/response-times", ResponseTimes, scope)

    async def rps(self, *, minutes: int, **scope: Any) -> RpsSeries:
        return await self._get("/metrics/rps", RpsSeries, {"minutes": minutes, **scope})

    async def backends(self, **scope: Any) -> Backends:
        return await self._get("/metrics/backends", Backends, scope)

    async def frontends(self, **scope: Any) -> Frontends:
        return await self._get("/metrics/frontends", Frontends, scope)

    async def saturation(self, **scope: Any) -> Saturation:
        return await self._get("/metrics/saturation", Saturation, scope)

    async def termination_states(self, **scope: Any) -> TerminationStates:
        return await self._get("/metrics/termination-states", TerminationStates, scope)

    async def breakdown(self, *, baseline: str | None = None, baseline_end: datetime | None = None,
                        **scope: Any) -> Breakdown:
        """Every scope's window and baseline facts (`baseline_end` defaults to the window's start)."""
        return await self._get("/metrics/breakdown", Breakdown,
                               {**scope, "baseline": baseline, "baseline_end": baseline_end})

    async def minute_signals(
        self, *, last: datetime, minutes: int, backend: str | None, frontend: str | None, concurrency: int = 6
    ) -> list[MinuteSignal]:
        """One MinuteSignal per minute from `last` − `minutes` to the minute starting at `last`,
        in time order: a 1-minute overview and response-times query each, at most `concurrency`
        minutes at once. Raises IngestionError when ingestion cannot answer."""
        limiter = asyncio.Semaphore(concurrency)

        async def one(start: datetime) -> MinuteSignal:
            scope = {"window": "1m", "end": start + timedelta(minutes=1), "backend": backend, "frontend": frontend}
            async with limiter:
                overview = await self.overview(**scope)
                times = await self.response_times(**scope)
            return MinuteSignal(minute=start, requests=overview.total_requests,
                                error_5xx_pct=overview.error_rate_5xx_pct, p95_ms=times.p95_ms)

        starts = [last - timedelta(minutes=n) for n in range(minutes, -1, -1)]
        return list(await asyncio.gather(*(one(s) for s in starts)))


def _param(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])[:300]
    return str(body)[:300]


def _normalise(model: type[BaseModel], body: Any) -> Any:
    """Termination states may come as a bare {state: count} map; wrap it."""
    if model is TerminationStates and isinstance(body, dict) and "termination_states" not in body:
        states = {k: v for k, v in body.items() if isinstance(v, int) and k != "window_seconds"}
        return {"window_seconds": body.get("window_seconds"), "termination_states": states}
    return body

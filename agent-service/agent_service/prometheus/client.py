"""An httpx client for Prometheus' query and alerts endpoints. Read-only: it only ever asks.

Every failure is a PrometheusError with a reason a person (or the model) can act on; the tools
turn it into ToolResult.fail. Answers are read up to `max_bytes` (a query matching millions of
samples is refused, not loaded)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from agent_service.prometheus.api import Alert, AlertsData, Envelope, QueryAnswer, QueryData

MAX_BYTES = 8 * 1024 * 1024
M = TypeVar("M", bound=BaseModel)


class PrometheusError(Exception):
    """Prometheus answered, but not with a result (a bad query, an execution error, a timeout)."""


class PrometheusUnreachable(PrometheusError):
    """No answer at all: connection refused, DNS, or the request timed out."""


def _unix(when: datetime) -> str:
    return f"{when.timestamp():.3f}"


class PrometheusClient:
    def __init__(self, http: httpx.AsyncClient, *, timeout_s: float, max_bytes: int = MAX_BYTES) -> None:
        self._http = http
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    @classmethod
    def create(cls, base_url: str, *, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None,
               max_bytes: int = MAX_BYTES) -> PrometheusClient:
        http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport)
        return cls(http, timeout_s=timeout_s, max_bytes=max_bytes)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def query(self, expr: str, *, at: datetime | None = None) -> tuple[QueryData, list[str]]:
        """An instant query (at `at`, else Prometheus' now): the data and Prometheus' warnings."""
        params = {"query": expr, "timeout": f"{self.timeout_s:g}"}
        if at is not None:
            params["time"] = _unix(at)
        return await self._query("/api/v1/query", params)

    async def query_range(self, expr: str, *, start: datetime, end: datetime, step_s: float) -> tuple[QueryData, list[str]]:
        params = {"query": expr, "start": _unix(start), "end": _unix(end), "step": f"{step_s:g}",
                  "timeout": f"{self.timeout_s:g}"}
        return await self._query("/api/v1/query_range", params)

    async def alerts(self) -> list[Alert]:
        envelope = await self._ask("GET", "/api/v1/alerts", {})
        return self._parse(AlertsData, envelope.data, "alerts").alerts

    async def _query(self, path: str, params: dict[str, str]) -> tuple[QueryData, list[str]]:
        envelope = await self._ask("POST", path, params)  # POST: a long query fits (same semantics as GET)
        answer = self._parse(QueryAnswer, {"data": envelope.data}, "query")
        return answer.data, envelope.warnings[:5]

    @staticmethod
    def _parse(model: type[M], data: object, what: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise PrometheusError(f"Prometheus' {what} answer has an unexpected shape ({exc.error_count()} errors)") from exc

    async def _ask(self, method: str, path: str, params: dict[str, str]) -> Envelope:
        try:
            kwargs = {"data": params} if method == "POST" else {"params": params}
            async with self._http.stream(method, path, **kwargs) as response:  # type: ignore[arg-type]
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise PrometheusError(
                            f"Prometheus' answer is larger than {self.max_bytes:,} bytes: narrow the "
                            "query (label matchers, a shorter range, a larger step, sum by (…) or topk(…))")
                status = response.status_code
        except httpx.TimeoutException as exc:
            raise PrometheusUnreachable(f"Prometheus did not answer within {self.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise PrometheusUnreachable(f"Prometheus unreachable: {type(exc).__name__}") from exc
        try:
            envelope = Envelope.model_validate(json.loads(body))
        except (ValueError, ValidationError) as exc:
            raise PrometheusError(f"HTTP {status} from Prometheus, not an API answer") from exc
        if envelope.status == "error" or status >= 400:
            kind = envelope.errorType or "error"
            raise PrometheusError(f"Prometheus refused the query (HTTP {status}, {kind}): {(envelope.error or '')[:500]}")
        return envelope

"""The Prometheus tools (PROMETHEUS_URL; absent when unset): `query_prometheus` (instant and range
PromQL, bounded and summarised) and `list_alerts` (what else is firing). Read-only by nature.
Every failure is ToolResult.fail with the reason, never an exception. Label values and
annotations are Prometheus' text: untrusted, returned only as tool results."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent_service.prometheus.api import Alert
from agent_service.prometheus.client import PrometheusClient, PrometheusError
from agent_service.prometheus.summary import Bounds, range_step, summarise
from agent_service.tools.base import Tool, ToolResult
from agent_service.tools.schema import input_schema, short_errors

QUERY_PROMETHEUS = "query_prometheus"
LIST_ALERTS = "list_alerts"
MAX_RANGE = timedelta(hours=24)
MAX_ALERTS = 30
MAX_ANNOTATION_CHARS = 300
STEP_PATTERN = r"^\d+(\.\d+)?(s|m|h)?$"
_STEP = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>s|m|h)?$")
_UNIT_S = {None: 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def _utc(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


class QueryArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    query: str = Field(min_length=1, max_length=2000, description="A PromQL expression, e.g. 'up' or "
                       "'sum by (backend) (rate(oncall_requests_total{code_class=\"5xx\"}[5m]))'.")
    start: datetime | None = Field(default=None, description="RFC 3339 start: makes it a range query from "
                                   "`start` to `end` (at most 24 h).")
    end: datetime | None = Field(default=None, description="RFC 3339: the range's end, or the instant a query "
                                 "without `start` is evaluated at. Default now.")
    step: str | None = Field(default=None, pattern=STEP_PATTERN, description="Range resolution, e.g. '30s', "
                             "'1m' (widened so that a series has at most the tool's maximum of points).")

    @model_validator(mode="after")
    def _ordered(self) -> QueryArgs:
        self.start, self.end = _utc(self.start), _utc(self.end)
        if self.start is not None:
            end = self.end or datetime.now(UTC)
            if self.start >= end:
                raise ValueError("start must be before end")
            if end - self.start > MAX_RANGE:
                raise ValueError("the range is longer than 24 h: shorten it")
        elif self.step is not None:
            raise ValueError("step needs start (a range query)")
        return self

    def step_s(self) -> float | None:
        match = _STEP.match(self.step or "")
        return float(match["n"]) * _UNIT_S[match["unit"]] if match else None


class _PrometheusTool:
    """Arguments checked against `args_model`, then `answer`; a PrometheusError is the tool's error."""

    name: str
    args_model: type[BaseModel]

    def __init__(self, client: PrometheusClient, bounds: Bounds) -> None:
        self._client = client
        self._bounds = bounds

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        try:
            args = self.args_model.model_validate(arguments or {})
        except ValidationError as exc:
            return ToolResult.fail(f"invalid arguments for {self.name}: {short_errors(exc)}")
        try:
            return ToolResult.ok(await self.answer(args))
        except PrometheusError as exc:
            return ToolResult.fail(str(exc))

    async def answer(self, args: Any) -> dict[str, Any]:
        raise NotImplementedError


class QueryPrometheusTool(_PrometheusTool):
    name = QUERY_PROMETHEUS
    description = (
        "Run a read-only PromQL query on Prometheus. Without `start`: an instant query at `end` (default "
        "now). With `start`: a range query from `start` to `end`. Returns per series its labels and, for "
        "a range, points/min/max/mean/last (never every point); at most the tool's maximum of series, "
        "sorted by labels, with `truncated` saying how many were cut. Aggregate (sum by, topk) to keep it small."
    )
    args_model = QueryArgs
    input_schema: dict[str, Any] = input_schema(QueryArgs)

    async def answer(self, args: QueryArgs) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if args.start is None:
            data, warnings = await self._client.query(args.query, at=args.end)
        else:
            end = args.end or datetime.now(UTC)
            step = range_step(args.start, end, args.step_s(), self._bounds.max_points)
            data, warnings = await self._client.query_range(args.query, start=args.start, end=end, step_s=step)
            extra = {"step_s": step}
        result = {**summarise(data, self._bounds), **extra}
        if warnings:
            result["warnings"] = [w[:300] for w in warnings]
        return result


class AlertsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    state: Literal["firing", "pending", "all"] = Field(default="firing", description="Which alerts to list.")
    alertname: str | None = Field(default=None, max_length=200, description="Only alerts of this name.")
    labels: dict[str, str] = Field(default_factory=dict, max_length=5,
                                   description="Only alerts with these exact label values, e.g. {'backend': 'be_api'}.")


def _alert(a: Alert) -> dict[str, Any]:
    return {
        "alertname": a.labels.get("alertname", "")[:200],
        "state": a.state[:20],
        "labels": {k[:100]: v[:200] for k, v in sorted(a.labels.items())[:20] if k != "alertname"},
        "annotations": {k[:100]: v[:MAX_ANNOTATION_CHARS] for k, v in sorted(a.annotations.items())[:10]},
        "active_since": (a.activeAt or "")[:40] or None,
        "value": (a.value or "")[:40] or None,
    }


class ListAlertsTool(_PrometheusTool):
    name = LIST_ALERTS
    description = (
        "What Prometheus' alerting rules fire right now (GET /api/v1/alerts): counts of firing and pending "
        "alerts, and up to 30 of them (firing first, newest first) with their labels, annotations and since "
        "when. Filter by alertname or exact label values."
    )
    args_model = AlertsArgs
    input_schema: dict[str, Any] = input_schema(AlertsArgs)

    async def answer(self, args: AlertsArgs) -> dict[str, Any]:
        alerts = await self._client.alerts()
        wanted = {**args.labels, **({"alertname": args.alertname} if args.alertname else {})}
        matching = [a for a in alerts if all(a.labels.get(k) == v for k, v in wanted.items())]
        listed = [a for a in matching if args.state == "all" or a.state == args.state]
        listed.sort(key=lambda a: a.activeAt or "", reverse=True)
        listed.sort(key=lambda a: a.state != "firing")  # stable: firing first, each newest first
        result: dict[str, Any] = {
            "firing": sum(a.state == "firing" for a in matching),
            "pending": sum(a.state == "pending" for a in matching),
            "alerts": [_alert(a) for a in listed[:MAX_ALERTS]],
        }
        if len(listed) > MAX_ALERTS:
            result["truncated"] = f"alerts cut to {MAX_ALERTS} of {len(listed)}: filter by alertname or labels"
        return result


def prometheus_tools(client: PrometheusClient, bounds: Bounds) -> Sequence[Tool]:
    return (QueryPrometheusTool(client, bounds), ListAlertsTool(client, bounds))

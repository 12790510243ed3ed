"""Prometheus' HTTP API answers as typed models (https://prometheus.io/docs/prometheus/latest/querying/api/).

Every answer is the envelope `{"status": "success"|"error", "data", "errorType", "error",
"warnings", "infos"}`; errors come with HTTP 400 (bad parameters, a query that does not parse),
422 (a query that cannot be executed) or 503 (timed out or aborted). A query's data is
`{"resultType": "matrix"|"vector"|"scalar"|"string", "result"}`; sample values are strings
("1", "NaN", "+Inf") beside a float Unix timestamp."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Sample = tuple[float, str]  # [unix time, value as Prometheus writes it]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")  # newer Prometheus versions add fields


class Envelope(_Lenient):
    status: Literal["success", "error"]
    data: Any = None
    errorType: str | None = None  # noqa: N815 - Prometheus' own names
    error: str | None = None
    warnings: list[str] = Field(default_factory=list)
    infos: list[str] = Field(default_factory=list)


class VectorSeries(_Lenient):
    metric: dict[str, str] = Field(default_factory=dict)
    value: Sample | None = None
    histogram: tuple[float, dict[str, Any]] | None = None  # a native histogram sample (not summarised)


class MatrixSeries(_Lenient):
    metric: dict[str, str] = Field(default_factory=dict)
    values: list[Sample] = Field(default_factory=list)
    histograms: list[tuple[float, dict[str, Any]]] = Field(default_factory=list)


class VectorData(_Lenient):
    resultType: Literal["vector"]  # noqa: N815
    result: list[VectorSeries]


class MatrixData(_Lenient):
    resultType: Literal["matrix"]  # noqa: N815
    result: list[MatrixSeries]


class ScalarData(_Lenient):
    resultType: Literal["scalar"]  # noqa: N815
    result: Sample


class StringData(_Lenient):
    resultType: Literal["string"]  # noqa: N815
    result: Sample


QueryData = Annotated[VectorData | MatrixData | ScalarData | StringData, Field(discriminator="resultType")]


class QueryAnswer(_Lenient):
    data: QueryData


class Alert(_Lenient):
    """One alert of GET /api/v1/alerts: its labels (alertname among them), annotations, state."""

    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    state: str  # "firing" | "pending" (kept as text: a newer state is not a parse error)
    activeAt: str | None = None  # noqa: N815
    value: str | None = None


class AlertsData(_Lenient):
    alerts: list[Alert]

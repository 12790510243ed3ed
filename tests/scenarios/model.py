"""The scenario format (documented in tests/scenarios/README.md): pydantic models and a loader."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["ok", "warning", "critical"]
Specialist = Literal["latency", "errors", "saturation", "traffic"]

_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$|^\d+(?:\.\d+)?$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)?")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def seconds(value: str | int | float) -> float:
    """'90s', '15m', '10m30s', '1.5h', '250ms' or a bare number of seconds → seconds."""
    if isinstance(value, int | float):
        return float(value)
    text = value.replace(" ", "")
    if not _DURATION.match(text):
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 10m30s, 1h)")
    return sum(float(number) * _UNIT_SECONDS[unit or None] for number, unit in _PART.findall(text))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Latency(_Strict):
    """HAProxy Ta (total active time) as a log-normal distribution given by two quantiles."""

    p50_ms: float = Field(gt=0)
    p95_ms: float = Field(gt=0)
    max_ms: float = Field(default=60_000, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Latency:
        if self.p95_ms < self.p50_ms:
            raise ValueError("p95_ms must be >= p50_ms")
        return self


class Path_(_Strict):
    path: str
    weight: float = Field(default=1.0, gt=0)
    method: str = "GET"


class Backend(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    frontend: str = Field(pattern=r"^[A-Za-z0-9_.:~-]{1,64}$")
    rps: float = Field(ge=0)
    servers: list[str] = Field(min_length=1)
    maxconn: int = Field(default=100, ge=1, description="per-server maxconn")
    latency: Latency
    status: dict[int, float] = Field(default_factory=lambda: {200: 1.0})
    paths: list[Path_] = Field(default_factory=lambda: [Path_(path="/")])
    bytes: int = Field(default=2048, ge=0)
    timeout_queue_ms: int = Field(default=5000, ge=1, description="HAProxy 'timeout queue'")
    timeout_server_ms: int = Field(default=30000, ge=1, description="HAProxy 'timeout server' (504s)")

    @field_validator("status")
    @classmethod
    def _status_mix(cls, mix: dict[int, float]) -> dict[int, float]:
        if not mix or any(not 100 <= code <= 599 or share < 0 for code, share in mix.items()):
            raise ValueError("status mix: HTTP codes 100-599 with non-negative shares")
        if sum(mix.values()) <= 0:
            raise ValueError("status mix shares must not all be zero")
        return mix


class Baseline(_Strict):
    backends: list[Backend] = Field(min_length=1)
    clients: int = Field(default=200, ge=1, description="distinct client IPs in the baseline")

    @model_validator(mode="after")
    def _unique(self) -> Baseline:
        names = [b.name for b in self.backends]
        if len(set(names)) != len(names):
            raise ValueError("backend names must be unique")
        return self


class LatencyChange(_Strict):
    factor: float = Field(default=1.0, ge=0)
    add_ms: float = Field(default=0.0, ge=0)


class ErrorInjection(_Strict):
    rate: float = Field(gt=0, le=1, description="share of matching requests turned into these statuses")
    status: list[int] = Field(default_factory=lambda: [500], min_length=1)


class TrafficChange(_Strict):
    factor: float = Field(ge=0, description="0 = traffic to zero, 3 = three times the baseline")


class Queueing(_Strict):
    """srv_queue and Tw grow linearly over the phase to these values; srv_conn sits at maxconn."""

    srv_queue: int = Field(ge=0)
    wait_ms: float = Field(ge=0)
    backend_queue: int = Field(default=0, ge=0)


class NoServer(_Strict):
    rate: float = Field(default=1.0, gt=0, le=1)


class Flood(_Strict):
    client_ip: str
    rps: float = Field(gt=0)
    status: int = Field(default=429, ge=100, le=599)
    path: str = "/"
    method: str = "GET"


class Phase(_Strict):
    name: str = ""
    start: float = Field(description="offset from the scenario's start, e.g. 12m")
    end: float | None = Field(default=None, description="offset; default: the scenario's end")
    ramp: float = Field(default=0.0, ge=0, description="seconds over which the change fades in")
    backend: str | None = None
    server: str | None = None
    path: str | None = Field(default=None, description="path prefix the change applies to")
    latency: LatencyChange | None = None
    errors: ErrorInjection | None = None
    traffic: TrafficChange | None = None
    queue: Queueing | None = None
    nosrv: NoServer | None = None
    flood: Flood | None = None
    message: str | None = Field(default=None, description="HAProxy non-request line logged at the start")

    @field_validator("start", "end", "ramp", mode="before")
    @classmethod
    def _durations(cls, value: object) -> object:
        return seconds(value) if isinstance(value, str) else value


class Expect(_Strict):
    overall_severity: Severity | list[Severity]
    flagged: list[Specialist] = Field(default_factory=list)
    ok: list[Specialist] = Field(default_factory=list)
    backend: str | None = None
    keywords: list[list[str]] = Field(default_factory=list, description="each group: any of these")

    @model_validator(mode="after")
    def _disjoint(self) -> Expect:
        both = set(self.flagged) & set(self.ok)
        if both:
            raise ValueError(f"specialists both flagged and ok: {sorted(both)}")
        if any(not group for group in self.keywords):
            raise ValueError("keyword groups must not be empty")
        return self

    @property
    def severities(self) -> list[Severity]:
        return [self.overall_severity] if isinstance(self.overall_severity, str) else self.overall_severity


class Analyze(_Strict):
    window: str = Field(default="15m", pattern=r"^\d{1,4}[mh]$")
    backend: str | None = None
    frontend: str | None = None
    question: str | None = None


class RedisCondition(_Strict):
    """The copilot's own Redis during the analysis: filled to this share of its maxmemory."""

    memory_pct: float = Field(gt=0, lt=100)
    maxmemory_mb: int = Field(default=64, ge=8, le=1024)


class Scenario(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    description: str
    duration: float = Field(description="span of the generated logs, ending at 'now'")
    seed: int = 1
    analyze: Analyze = Field(default_factory=Analyze)
    baseline: Baseline
    phases: list[Phase] = Field(default_factory=list)
    redis: RedisCondition | None = None
    expect: Expect

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return seconds(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        backends = {b.name: b for b in self.baseline.backends}
        for phase in self.phases:
            label = phase.name or f"phase at {phase.start:g}s"
            end = self.duration if phase.end is None else phase.end
            if not 0 <= phase.start < end <= self.duration:
                raise ValueError(f"{label}: needs 0 <= start < end <= duration")
            if phase.flood is not None and phase.backend is None:
                raise ValueError(f"{label}: a flood needs a backend")
            if phase.backend is not None and phase.backend not in backends:
                raise ValueError(f"{label}: unknown backend {phase.backend!r}")
            if phase.server is not None:
                pool = backends[phase.backend].servers if phase.backend else []
                if phase.server not in pool:
                    raise ValueError(f"{label}: server {phase.server!r} is not in the phase's backend")
        if self.expect.backend is not None and self.expect.backend not in backends:
            raise ValueError(f"expect.backend {self.expect.backend!r} is not a baseline backend")
        if seconds(self.analyze.window) > self.duration:
            raise ValueError("analyze.window is longer than the scenario's duration")
        return self

    def phase_end(self, phase: Phase) -> float:
        return self.duration if phase.end is None else phase.end


def load_scenario(path: Path) -> Scenario:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a scenario is a YAML mapping")
    return Scenario.model_validate(data)


SCENARIO_DIR = Path(__file__).resolve().parent / "public"


def scenario_files(directory: Path = SCENARIO_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))

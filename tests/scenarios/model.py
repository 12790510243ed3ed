"""The scenario format (documented in tests/scenarios/README.md): pydantic models and a loader."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, field_validator, model_validator

from tests.scenarios.changes import (
    ClientAbort,
    Deny,
    ErrorInjection,
    Flood,
    LatencyChange,
    NoServer,
    Pattern,
    Queueing,
    Refuse,
    Retries,
    TrafficChange,
)
from tests.scenarios.changes import Strict as _Strict
from tests.scenarios.changes import seconds

__all__ = ["Backend", "Baseline", "ChangeEvent", "Expect", "Phase", "Scenario", "load_scenario", "scenario_files", "seconds"]

Severity = Literal["ok", "warning", "critical"]
Specialist = Literal["latency", "errors", "saturation", "traffic"]
_NAME = r"^[A-Za-z0-9_.:-]{1,64}$"
_FRONTEND = r"^[A-Za-z0-9_.:~-]{1,64}$"


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
    name: str = Field(pattern=_NAME)
    frontend: str | None = Field(default=None, pattern=_FRONTEND, description="the one frontend routing here")
    frontends: dict[str, float] | None = Field(default=None, description="or several, with their shares")
    rps: float = Field(ge=0)
    pattern: Pattern | None = Field(default=None, description="how rps moves over time (diurnal, bursts)")
    servers: list[str] = Field(min_length=1)
    maxconn: int = Field(default=100, ge=1, description="per-server maxconn")
    latency: Latency
    status: dict[int, float] = Field(default_factory=lambda: {200: 1.0})
    paths: list[Path_] = Field(default_factory=lambda: [Path_(path="/")])
    bytes: int = Field(default=2048, ge=0)
    timeout_queue_ms: int = Field(default=5000, ge=1, description="HAProxy 'timeout queue'")
    timeout_server_ms: int = Field(default=30000, ge=1, description="HAProxy 'timeout server' (504s)")
    timeout_connect_ms: int = Field(default=5000, ge=1, description="HAProxy 'timeout connect'")
    timeout_client_ms: int = Field(default=30000, ge=1, description="HAProxy 'timeout client' (cD, cL)")
    timeout_http_request_ms: int = Field(default=10000, ge=1, description="'timeout http-request' (cR)")
    retries: int = Field(default=3, ge=0, le=10, description="HAProxy 'retries'")
    redispatch: bool = Field(default=False, description="'option redispatch': the last retry on a peer")

    @field_validator("status")
    @classmethod
    def _status_mix(cls, mix: dict[int, float]) -> dict[int, float]:
        if not mix or any(not 100 <= code <= 599 or share < 0 for code, share in mix.items()):
            raise ValueError("status mix: HTTP codes 100-599 with non-negative shares")
        if sum(mix.values()) <= 0:
            raise ValueError("status mix shares must not all be zero")
        return mix

    @field_validator("frontends")
    @classmethod
    def _shares(cls, shares: dict[str, float] | None) -> dict[str, float] | None:
        if shares is None:
            return None
        if not shares or any(share < 0 for share in shares.values()) or sum(shares.values()) <= 0:
            raise ValueError("frontends: names with non-negative shares, not all zero")
        for name in shares:
            if not re.match(_FRONTEND, name):
                raise ValueError(f"frontends: invalid frontend name {name!r}")
        return shares

    @model_validator(mode="after")
    def _one_way_in(self) -> Backend:
        if (self.frontend is None) == (self.frontends is None):
            raise ValueError(f"backend {self.name}: give either frontend or frontends")
        return self

    @property
    def routes(self) -> dict[str, float]:
        """Frontend → share of this backend's requests (normalised)."""
        if self.frontends is None:
            return {str(self.frontend): 1.0}
        total = sum(self.frontends.values())
        return {name: share / total for name, share in self.frontends.items()}


class Baseline(_Strict):
    backends: list[Backend] = Field(min_length=1)
    clients: int = Field(default=200, ge=1, description="distinct client IPs in the baseline")

    @model_validator(mode="after")
    def _unique(self) -> Baseline:
        names = [b.name for b in self.backends]
        if len(set(names)) != len(names):
            raise ValueError("backend names must be unique")
        return self


class Phase(_Strict):
    name: str = ""
    start: float = Field(description="offset from the scenario's start, e.g. 12m")
    end: float | None = Field(default=None, description="offset; default: the scenario's end")
    ramp: float = Field(default=0.0, ge=0, description="seconds over which the change fades in")
    backend: str | None = None
    server: str | None = None
    frontend: str | None = Field(default=None, description="only requests arriving through this frontend")
    path: str | None = Field(default=None, description="path prefix the change applies to")
    latency: LatencyChange | None = None
    errors: ErrorInjection | None = None
    traffic: TrafficChange | None = None
    queue: Queueing | None = None
    nosrv: NoServer | None = None
    flood: Flood | None = None
    retries: Retries | None = None
    refuse: Refuse | None = None
    client_abort: ClientAbort | None = None
    deny: Deny | None = None
    message: str | None = Field(default=None, description="HAProxy non-request line logged at the start")

    @field_validator("start", "end", "ramp", mode="before")
    @classmethod
    def _durations(cls, value: object) -> object:
        return seconds(value) if isinstance(value, str) else value


class ChangeEvent(_Strict):
    """A change recorded with agent-service `POST /events` before the analysis (deploy, config, …)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.:@+-]{1,128}$")
    kind: str = "deploy"
    at: float = Field(description="offset from the scenario's start, e.g. 10m")
    backend: str | None = None
    version: str | None = None
    summary: str = ""
    by: str | None = None

    @field_validator("at", mode="before")
    @classmethod
    def _offset(cls, value: object) -> object:
        return seconds(value) if isinstance(value, str) else value

    def body(self, start: float) -> dict[str, object]:
        """The POST /events body, `at` turned into a time (start = the scenario's first second)."""
        from datetime import UTC, datetime

        fields = self.model_dump(exclude={"at"}, exclude_none=True)
        return {**fields, "at": datetime.fromtimestamp(start + self.at, tz=UTC).isoformat()}


class Expect(_Strict):
    overall_severity: Severity | list[Severity]
    flagged: list[Specialist] = Field(default_factory=list)
    ok: list[Specialist] = Field(default_factory=list)
    backend: str | None = None
    backends: list[str] = Field(default_factory=list, description="each must be named (several problems)")
    server: str | None = Field(default=None, description="must be named (title, diagnosis, finding, advice)")
    in_title: list[str] = Field(default_factory=list, description="names the title itself must hold")
    keywords: list[list[str]] = Field(default_factory=list, description="each group: any of these")
    forbidden: list[str] = Field(default_factory=list, description="none may be in diagnosis or advice")
    # Remediation proposals the report must carry, each `type target` (`drain_server be_api/api3`,
    # `rollback be_api`, `scale_out be_api`) or a bare type (`escalate`).
    proposals: list[str] = Field(default_factory=list, description="proposals the report must make")

    @model_validator(mode="after")
    def _disjoint(self) -> Expect:
        both = set(self.flagged) & set(self.ok)
        if both:
            raise ValueError(f"specialists both flagged and ok: {sorted(both)}")
        if any(not group for group in self.keywords):
            raise ValueError("keyword groups must not be empty")
        if any(not word.strip() for word in self.forbidden):
            raise ValueError("forbidden words must not be empty")
        clash = {w.lower() for group in self.keywords for w in group} & {w.lower() for w in self.forbidden}
        if clash:
            raise ValueError(f"words both expected and forbidden: {sorted(clash)}")
        return self

    @property
    def named_backends(self) -> list[str]:
        """`backend` and `backends`, each once, in order."""
        names = ([self.backend] if self.backend else []) + list(self.backends)
        return list(dict.fromkeys(names))

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
    events: list[ChangeEvent] = Field(default_factory=list, description="changes POSTed to /events first")
    redis: RedisCondition | None = None
    transport: Literal["http", "syslog", "mixed"] | None = Field(
        default=None, description="how the lines reach ingestion (default: the runner's --transport)")
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
            if phase.frontend is not None:
                routed = {b.name for b in self.baseline.backends if phase.frontend in b.routes}
                if not routed or (phase.backend is not None and phase.backend not in routed):
                    raise ValueError(f"{label}: frontend {phase.frontend!r} routes to no such backend")
            if phase.refuse is not None and phase.server is None:
                raise ValueError(f"{label}: refuse needs a backend and a server")
        for event in self.events:
            if not 0 <= event.at <= self.duration:
                raise ValueError(f"event {event.id}: needs 0 <= at <= duration")
            if event.backend is not None and event.backend not in backends:
                raise ValueError(f"event {event.id}: unknown backend {event.backend!r}")
        for name in self.expect.named_backends:
            if name not in backends:
                raise ValueError(f"expect.backend {name!r} is not a baseline backend")
        servers = {s for b in self.baseline.backends for s in b.servers}
        if self.expect.server is not None and self.expect.server not in servers:
            raise ValueError(f"expect.server {self.expect.server!r} is in no backend's pool")
        frontends = {f for b in self.baseline.backends for f in b.routes}
        for name in self.expect.in_title:
            if name not in backends and name not in servers and name not in frontends:
                raise ValueError(f"expect.in_title {name!r} is no backend, server or frontend")
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

"""What a phase can change, and how a backend's rate moves over time (pydantic, unknown fields refused).

The HAProxy shapes these produce (termination states, timers, retries) are in terminations.py and
documented in tests/scenarios/README.md.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


def _durations(value: object) -> object:
    return seconds(value) if isinstance(value, str) else value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- rates that change over time (a backend's `pattern:`) ----------------------------------------

class Diurnal(Strict):
    """rps × (1 + amplitude × cos(2π (t − phase) / period)): a smooth rise and decline around rps."""

    kind: Literal["diurnal"]
    amplitude: float = Field(gt=0, lt=1)
    period: float = Field(gt=0, description="length of one cycle, e.g. 24h or 2h")
    phase: float = Field(default=0.0, description="offset from the scenario's start where the rate peaks")

    _seconds = field_validator("period", "phase", mode="before")(_durations)

    def rate_factor(self, offset: float) -> float:
        return 1.0 + self.amplitude * math.cos(2 * math.pi * (offset - self.phase) / self.period)


class Bursts(Strict):
    """A backend fed in bursts: rps × factor for `length` every `every`, rps × idle in between."""

    kind: Literal["bursts"]
    every: float = Field(gt=0)
    length: float = Field(gt=0)
    factor: float = Field(default=1.0, gt=0)
    idle: float = Field(default=0.0, ge=0)
    offset: float = Field(default=0.0, ge=0, description="when the first burst starts")

    _seconds = field_validator("every", "length", "offset", mode="before")(_durations)

    @model_validator(mode="after")
    def _fits(self) -> Bursts:
        if self.length >= self.every:
            raise ValueError("bursts: length must be shorter than every")
        return self

    def rate_factor(self, offset: float) -> float:
        if offset < self.offset:
            return self.idle
        return self.factor if (offset - self.offset) % self.every < self.length else self.idle


Pattern = Annotated[Diurnal | Bursts, Field(discriminator="kind")]


# --- what a phase changes -------------------------------------------------------------------------

class LatencyChange(Strict):
    factor: float = Field(default=1.0, ge=0)
    add_ms: float = Field(default=0.0, ge=0)


class ErrorInjection(Strict):
    rate: float = Field(gt=0, le=1, description="share of matching requests turned into these statuses")
    status: list[int] = Field(default_factory=lambda: [500], min_length=1)


class TrafficChange(Strict):
    factor: float = Field(ge=0, description="0 = traffic to zero, 3 = three times the baseline")


class Queueing(Strict):
    """srv_queue and Tw grow linearly over the phase to these values; srv_conn sits at maxconn."""

    srv_queue: int = Field(ge=0)
    wait_ms: float = Field(ge=0)
    backend_queue: int = Field(default=0, ge=0)


class NoServer(Strict):
    rate: float = Field(default=1.0, gt=0, le=1)


class Flood(Strict):
    client_ip: str
    rps: float = Field(gt=0)
    status: int = Field(default=429, ge=100, le=599)
    path: str = "/"
    method: str = "GET"


class Retries(Strict):
    """A share of requests needed `count` connection retries, then succeeded (or failed: `fail`)."""

    rate: float = Field(gt=0, le=1)
    count: int = Field(default=1, ge=1, le=3)
    redispatch: bool = Field(default=False, description="the last retry went to another server (+N)")
    fail: float = Field(default=0.0, ge=0, le=1, description="share of the retried that still end 503 SC--")


class Refuse(Strict):
    """The phase's server refuses this share of connection attempts (TCP RST): HAProxy retries."""

    rate: float = Field(default=1.0, gt=0, le=1)


AbortState = Literal["cD", "CD", "cR", "CR", "cL", "CH"]


class ClientAbort(Strict):
    """A share of requests ended on the client side (HAProxy 8.5: C = client aborted, c = client timeout)."""

    rate: float = Field(gt=0, le=1)
    state: AbortState
    wait_ms: float | None = Field(default=None, ge=0, description="how long HAProxy waited (default by state)")
    status: int | None = Field(default=None, description="logged status (default by state; -1 allowed)")

    @field_validator("status")
    @classmethod
    def _status(cls, value: int | None) -> int | None:
        if value is not None and value != -1 and not 100 <= value <= 599:
            raise ValueError("client_abort.status: an HTTP status 100-599 or -1")
        return value


class Deny(Strict):
    """HAProxy's own `http-request deny` (PR--) or `tarpit` (PT--): no server is reached."""

    rate: float = Field(gt=0, le=1)
    status: int | None = Field(default=None, ge=400, le=599, description="default 403 (PR--), 500 (PT--)")
    state: Literal["PR--", "PT--"] = "PR--"
    tarpit_ms: int = Field(default=10_000, ge=0, description="`timeout tarpit` (PT--: Tw)")
    where: Literal["backend", "frontend"] = Field(
        default="backend", description="rule in the backend (be/<NOSRV>) or the frontend (fe/<NOSRV>)")

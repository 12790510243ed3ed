"""Each specialist's definition. Prompt templates live in agent_service/prompts/<prompt>.md."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from agent_service.engine import SpecialistSpec
from agent_service.models import SPECIALISTS, SpecialistName
from agent_service.settings import Settings
from agent_service.tools.base import Tool
from agent_service.tools.registry import (
    BACKENDS,
    BREAKDOWN,
    FRONTENDS,
    OVERVIEW,
    RESPONSE_TIMES,
    RPS_SERIES,
    SATURATION,
    STATUS_CODES,
    TERMINATION_STATES,
)

_TOOLS: dict[SpecialistName, tuple[str, ...]] = {
    "latency": (RESPONSE_TIMES, BACKENDS, FRONTENDS, OVERVIEW, BREAKDOWN),
    "errors": (OVERVIEW, STATUS_CODES, BACKENDS, FRONTENDS, TERMINATION_STATES, BREAKDOWN),
    "saturation": (SATURATION, BACKENDS, RESPONSE_TIMES, TERMINATION_STATES, OVERVIEW, BREAKDOWN),
    "traffic": (OVERVIEW, RPS_SERIES, FRONTENDS, BACKENDS, BREAKDOWN),
}


class _Thresholds(BaseModel):
    """A specialist's thresholds. Fields without a default come from Settings (and are the numbers
    the spec shows to the Claude prompt and the grounding check); the excluded ones are the rules
    engine's own constants, declared here and nowhere else."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_requests: float  # below it a scope is not judged


class LatencyThresholds(_Thresholds):
    p95_warning_ms: float
    p99_critical_ms: float
    # a backend's p95 or p99 at least this many times its previous window's: it rose
    rise_factor: float = Field(default=1.5, exclude=True)
    # one server whose p95 is at least this many times its peers' median (and above p95_warning_ms)
    server_outlier_factor: float = Field(default=3.0, exclude=True)
    # requests the client ended (cD, CD, cR, ...) above this share: the slow tail may be client time
    client_tail_pct: float = Field(default=0.5, exclude=True)
    # Against the backend's own baseline (a fast backend three times slower stays under the absolute
    # p95_warning_ms): a warning when its p95 is at least this many times the baseline's p95 ...
    baseline_p95_factor: float = Field(default=2.0, exclude=True)
    # ... and at least this many ms above it (a 10 → 25 ms rise is no incident) ...
    baseline_min_added_ms: float = Field(default=100.0, exclude=True)
    # ... each p95 over at least this many requests (a p95 over fewer rests on a handful of them).
    baseline_min_requests: int = Field(default=200, exclude=True)


class ErrorsThresholds(_Thresholds):
    error_5xx_warning_pct: float
    error_5xx_critical_pct: float
    error_4xx_warning_pct: float
    # one server answering at least this share of its backend's 5xx is "the bad server"
    dominant_server_share: float = Field(default=0.6, exclude=True)
    max_backend_probes: int = Field(default=8, exclude=True)  # per-backend status-code queries
    min_errors: int = Field(default=5, exclude=True)  # fewer errors than this are chance, not a rate
    # requests needing connection retries (or redispatched) above this share: a warning
    retry_warning_pct: float = Field(default=5.0, exclude=True)
    # requests HAProxy itself denied (PR--/PT--) above this share: a warning
    denial_warning_pct: float = Field(default=5.0, exclude=True)


class SaturationThresholds(_Thresholds):
    redis_memory_warning_pct: float
    queue_warning_pct: float
    p95_warning_ms: float
    max_backend_probes: int = Field(default=5, exclude=True)  # per-backend saturation queries


class TrafficThresholds(_Thresholds):
    traffic_drop_critical_pct: float
    traffic_surge_warning_pct: float
    # below this many requests in a typical minute, empty minutes are chance, not a drop
    min_typical_per_minute: float = Field(default=5, exclude=True)
    # a drop this deep (but short of traffic_drop_critical_pct) is a warning
    traffic_drop_warning_pct: float = Field(default=30.0, exclude=True)
    # requests the client ended (cD, CD, cR, CR, cL, cH) above this share, and above the baseline's
    client_abort_warning_pct: float = Field(default=5.0, exclude=True)
    # a count this unlikely under the baseline's rate (Poisson) is a change, not chance
    significance: float = Field(default=1e-3, exclude=True)


T = TypeVar("T", bound=_Thresholds)
Thresholds = LatencyThresholds | ErrorsThresholds | SaturationThresholds | TrafficThresholds
THRESHOLDS: dict[SpecialistName, type[_Thresholds]] = {
    "latency": LatencyThresholds,
    "errors": ErrorsThresholds,
    "saturation": SaturationThresholds,
    "traffic": TrafficThresholds,
}


def thresholds(settings: Settings, name: SpecialistName) -> _Thresholds:
    """The one place thresholds are read from Settings."""
    common = {"min_requests": float(settings.min_requests)}
    values: dict[SpecialistName, dict[str, float]] = {
        "latency": {"p95_warning_ms": settings.latency_p95_warning_ms,
                    "p99_critical_ms": settings.latency_p99_critical_ms},
        "errors": {"error_5xx_warning_pct": settings.error_5xx_warning_pct,
                   "error_5xx_critical_pct": settings.error_5xx_critical_pct,
                   "error_4xx_warning_pct": settings.error_4xx_warning_pct},
        "saturation": {"redis_memory_warning_pct": settings.redis_memory_warning_pct,
                       "queue_warning_pct": settings.queue_warning_pct,
                       "p95_warning_ms": settings.latency_p95_warning_ms},
        "traffic": {"traffic_drop_critical_pct": settings.traffic_drop_critical_pct,
                    "traffic_surge_warning_pct": settings.traffic_surge_warning_pct},
    }
    return THRESHOLDS[name](**values[name], **common)


def parse_thresholds(kind: type[T], named: Mapping[str, float]) -> T:
    """A spec's named thresholds (SpecialistSpec.thresholds) as the typed model; a missing one is
    an error, never a silent default."""
    return kind.model_validate(dict(named))


def specialist_specs(settings: Settings) -> dict[SpecialistName, SpecialistSpec]:
    """The four specs, in the report's order (latency, errors, saturation, traffic)."""
    return {
        name: SpecialistSpec(
            name=name,
            prompt=name,
            thresholds=thresholds(settings, name).model_dump(),
            tool_names=_TOOLS[name],
        )
        for name in SPECIALISTS
    }


def tools_for(spec: SpecialistSpec, tools: Mapping[str, Tool], extra: Sequence[Tool] = ()) -> list[Tool]:
    """The specialist's own tools, then the extra ones every specialist gets."""
    own = [tools[name] for name in spec.tool_names if name in tools]
    return own + [tool for tool in extra if tool.name not in spec.tool_names]

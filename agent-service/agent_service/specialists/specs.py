"""Each specialist's definition. Prompt templates live in agent_service/prompts/<prompt>.md."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent_service.engine import SpecialistSpec
from agent_service.models import SPECIALISTS, SpecialistName
from agent_service.settings import Settings
from agent_service.tools.base import Tool
from agent_service.tools.registry import (
    BACKENDS,
    FRONTENDS,
    OVERVIEW,
    RESPONSE_TIMES,
    RPS_SERIES,
    SATURATION,
    STATUS_CODES,
    TERMINATION_STATES,
)

_TOOLS: dict[SpecialistName, tuple[str, ...]] = {
    "latency": (RESPONSE_TIMES, BACKENDS, FRONTENDS, OVERVIEW),
    "errors": (OVERVIEW, STATUS_CODES, BACKENDS, FRONTENDS, TERMINATION_STATES),
    "saturation": (SATURATION, BACKENDS, RESPONSE_TIMES, TERMINATION_STATES, OVERVIEW),
    "traffic": (OVERVIEW, RPS_SERIES, FRONTENDS, BACKENDS),
}


def _thresholds(settings: Settings, name: SpecialistName) -> dict[str, float]:
    common = {"min_requests": float(settings.min_requests)}
    if name == "latency":
        return {
            "p95_warning_ms": settings.latency_p95_warning_ms,
            "p99_critical_ms": settings.latency_p99_critical_ms,
            **common,
        }
    if name == "errors":
        return {
            "error_5xx_warning_pct": settings.error_5xx_warning_pct,
            "error_5xx_critical_pct": settings.error_5xx_critical_pct,
            "error_4xx_warning_pct": settings.error_4xx_warning_pct,
            **common,
        }
    if name == "saturation":
        return {
            "redis_memory_warning_pct": settings.redis_memory_warning_pct,
            "queue_warning_pct": settings.queue_warning_pct,
            "p95_warning_ms": settings.latency_p95_warning_ms,
            **common,
        }
    return {
        "traffic_drop_critical_pct": settings.traffic_drop_critical_pct,
        "traffic_surge_warning_pct": settings.traffic_surge_warning_pct,
        **common,
    }


def specialist_specs(settings: Settings) -> dict[SpecialistName, SpecialistSpec]:
    """The four specs, in the report's order (latency, errors, saturation, traffic)."""
    return {
        name: SpecialistSpec(
            name=name,
            prompt=name,
            thresholds=_thresholds(settings, name),
            tool_names=_TOOLS[name],
        )
        for name in SPECIALISTS
    }


def tools_for(spec: SpecialistSpec, tools: Mapping[str, Tool], extra: Sequence[Tool] = ()) -> list[Tool]:
    """The specialist's own tools, then the extra ones every specialist gets."""
    own = [tools[name] for name in spec.tool_names if name in tools]
    return own + [tool for tool in extra if tool.name not in spec.tool_names]

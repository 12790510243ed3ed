"""Thresholds: typed, from Settings in specs.py only; a missing one is an error, not a default."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent_service.settings import Settings
from agent_service.specialists.specs import LatencyThresholds, parse_thresholds, specialist_specs


def test_specs_show_the_settings_numbers_by_name_and_the_engine_reads_them_back() -> None:
    specs = specialist_specs(Settings(_env_file=None, latency_p95_warning_ms=321, min_requests=7))  # type: ignore[call-arg]
    assert specs["latency"].thresholds == {"min_requests": 7.0, "p95_warning_ms": 321.0, "p99_critical_ms": 1000.0}
    assert specs["saturation"].thresholds["p95_warning_ms"] == 321.0
    typed = parse_thresholds(LatencyThresholds, specs["latency"].thresholds)
    assert typed.p95_warning_ms == 321.0 and typed.rise_factor == 1.5  # the engine's constant, not in the prompt
    assert "rise_factor" not in specs["latency"].thresholds


def test_a_missing_or_unknown_threshold_is_an_error() -> None:
    with pytest.raises(ValidationError):
        parse_thresholds(LatencyThresholds, {"p95_warning_ms": 500.0, "min_requests": 20.0})
    with pytest.raises(ValidationError):
        parse_thresholds(LatencyThresholds, {"p95_warning_ms": 1, "p99_critical_ms": 2, "min_requests": 3, "x": 4})


@pytest.mark.parametrize("name", ["data", "stats", "case", "latency", "errors", "saturation", "traffic",
                                  "diagnose", "words", "story", "hypothesis"])
def test_the_diagnosis_does_no_io(name: str) -> None:
    """Facts → modes → words is pure: no await, no tool, no client anywhere in agent_service/diagnosis."""
    module = importlib.import_module(f"agent_service.diagnosis.{name}")
    tree = ast.parse(Path(module.__file__).read_text())  # type: ignore[arg-type]
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Await, ast.AsyncFunctionDef))]
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m and (m.startswith("agent_service.tools") or "client" in m or m == "httpx")}


def test_engine_thresholds_come_from_settings() -> None:
    from agent_service.rules.rules_engine import limits_from

    limits = limits_from(Settings(_env_file=None, error_5xx_warning_pct=2.5, traffic_drop_critical_pct=60))  # type: ignore[call-arg]
    assert limits.errors.error_5xx_warning_pct == 2.5 and limits.traffic.traffic_drop_critical_pct == 60
    assert limits.traffic.traffic_drop_warning_pct < limits.traffic.traffic_drop_critical_pct

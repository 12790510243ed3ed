"""Thresholds: typed, from Settings in specs.py only; a missing one is an error, not a default."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent_service.rules import errors, latency, saturation, traffic
from agent_service.rules.errors import ErrorFacts, backends_to_probe
from agent_service.rules.facts import BackendStats
from agent_service.settings import Settings
from agent_service.specialists.specs import LatencyThresholds, parse_thresholds, specialist_specs
from tests.agent.rules.thresholds import for_


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


def test_only_backends_whose_4xx_could_pass_are_probed() -> None:
    th = for_("errors")  # 4xx above 20 %, 20 requests, at most 8 probes
    backends = tuple(BackendStats(f"be{i}", 100 + i) for i in range(10)) + (BackendStats("be_big", 5000),)
    facts = ErrorFacts(requests=6000, errors_4xx=20, rate_5xx=0, rate_4xx=0.3, backends=backends)
    assert backends_to_probe(facts, th) == []  # 20 × 100 is not above 20 % of any backend's requests
    many = ErrorFacts(requests=6000, errors_4xx=1100, rate_5xx=0, rate_4xx=18.3, backends=backends)
    probed = backends_to_probe(many, th)
    assert len(probed) == 8 and "be_big" in probed and probed[1:] == [f"be{i}" for i in range(9, 2, -1)]
    alone = ErrorFacts(requests=100, errors_4xx=90, rate_5xx=0, rate_4xx=90, backends=backends[:1])
    assert backends_to_probe(alone, th) == []  # one backend: the site-wide rate already says it


@pytest.mark.parametrize("module", [errors, latency, saturation, traffic])
def test_grading_modules_do_no_io(module: object) -> None:
    tree = ast.parse(Path(module.__file__).read_text())  # type: ignore[attr-defined]
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Await, ast.AsyncFunctionDef))]
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "agent_service.rules.recorder" not in imported

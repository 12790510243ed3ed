"""Thresholds for the pure grading tests: the production ones, built from Settings defaults."""

from __future__ import annotations

from typing import Any

from agent_service.settings import Settings
from agent_service.specialists.specs import thresholds


def for_(name: str, **settings: Any) -> Any:
    return thresholds(Settings(_env_file=None, **settings), name)  # type: ignore[arg-type, call-arg]

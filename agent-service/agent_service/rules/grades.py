"""What a grading function returns: small typed verdicts, each on one scope, carrying the
numbers that decided it and the tools whose answers hold them. Wording reads grades only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Level = Literal["ok", "warning", "critical"]
ScopeKind = Literal["site", "frontend", "backend", "server"]
_RANK: dict[str, int] = {"ok": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class ScopeRef:
    """Where a grade applies. A server is named `backend/server`."""

    kind: ScopeKind = "site"
    name: str = ""

    @classmethod
    def backend(cls, name: str) -> ScopeRef:
        return cls("backend", name)

    @classmethod
    def server(cls, backend: str, server: str) -> ScopeRef:
        return cls("server", f"{backend}/{server}")


SITE = ScopeRef()


@dataclass(frozen=True)
class Grade:
    name: str  # what was judged, e.g. "error_rate_5xx", "traffic_drop"
    severity: Level
    scope: ScopeRef = SITE
    numbers: Mapping[str, float] = field(default_factory=dict)  # the values that decided, by name
    evidence: tuple[str, ...] = ()  # the tools whose answers hold those numbers


def worst(levels: Iterable[str]) -> Level:
    best: Level = "ok"
    for level in levels:
        if _RANK.get(level, -1) > _RANK[best]:
            best = level  # type: ignore[assignment]
    return best


@dataclass(frozen=True)
class Grades:
    """One specialist's grades. `judged` is False when there were too few requests to judge."""

    items: tuple[Grade, ...] = ()
    judged: bool = True

    @property
    def severity(self) -> Level:
        return worst(g.severity for g in self.items) if self.judged else "ok"

    def named(self, name: str, *, bad: bool = True) -> list[Grade]:
        return [g for g in self.items if g.name == name and (not bad or g.severity != "ok")]

    def first(self, name: str) -> Grade | None:
        return next((g for g in self.items if g.name == name), None)


def level_above(value: float, *, warning: float | None = None, critical: float | None = None) -> Level:
    """Strictly above a limit: a value at the limit is still within it."""
    if critical is not None and value > critical:
        return "critical"
    if warning is not None and value > warning:
        return "warning"
    return "ok"

"""What the deterministic synthesis reads from findings: severities, affected backends (from
`name[backend]` signal keys), status codes and termination states."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent_service.models import SEVERITY_RANK, Finding

_SCOPED = re.compile(r"^(?P<name>[A-Za-z0-9_]+)\[(?P<scope>.+)\]$")


@dataclass
class Facts:
    severity: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    backends: dict[str, list[str]] = field(default_factory=dict)  # signal name → backends, in order
    codes: dict[int, float] = field(default_factory=dict)
    terminations: dict[str, float] = field(default_factory=dict)
    signals: dict[str, dict[str, float]] = field(default_factory=dict)

    def sev(self, specialist: str) -> str:
        return self.severity.get(specialist, "unknown")

    def bad(self, specialist: str) -> bool:
        return self.sev(specialist) in {"warning", "critical"}

    def scoped(self, *names: str) -> list[str]:
        out: list[str] = []
        for name in names:
            for backend in self.backends.get(name, []):
                if backend not in out:
                    out.append(backend)
        return out

    def latency_rose(self, backend: str) -> bool:
        """The latency specialist compared the backend with its own previous window and saw it rise
        (absent when it could not compare: too few requests before, or a finding without that signal)."""
        return self.signals.get("latency", {}).get(f"latency_rose[{backend}]", 0.0) >= 1.0

    def bad_server(self, backend: str) -> str | None:
        """The server of `backend` the errors specialist found answering most of its 5xx."""
        for scope in self.backends.get("server_error_rate_5xx_pct", []):
            name, _, server = scope.partition("/")
            if name == backend and server:
                return server
        return None

    def overall(self) -> str:
        known = [s for s in self.severity.values() if s != "unknown"]
        return max(known, key=lambda s: SEVERITY_RANK[s]) if known else "ok"


def read(findings: Sequence[Finding]) -> Facts:
    facts = Facts()
    for finding in findings:
        facts.severity[finding.specialist] = finding.severity
        if finding.status != "completed":
            facts.failed[finding.specialist] = finding.error or finding.status
        facts.signals[finding.specialist] = dict(finding.signals)
        if finding.severity not in {"warning", "critical"}:
            continue
        for key, value in finding.signals.items():
            match = _SCOPED.match(key)
            if match:
                facts.backends.setdefault(match["name"], []).append(match["scope"])
            elif key.startswith("status_") and key[7:].isdigit():
                facts.codes[int(key[7:])] = max(value, facts.codes.get(int(key[7:]), 0))
            elif key.startswith("termination_"):
                facts.terminations[key[12:]] = value
    return facts


# --- Facts the specialists grade, per scope (site, backend, server), read from tool answers. ---


@dataclass(frozen=True)
class ServerStats:
    name: str
    requests: int = 0
    errors_5xx: float = 0.0
    error_rate_5xx_pct: float = 0.0
    p95_ms: float | None = None

    @property
    def five_xx(self) -> float:
        """Its 5xx count (from the rate when ingestion gave no count)."""
        return self.errors_5xx or self.error_rate_5xx_pct * self.requests / 100


@dataclass(frozen=True)
class BackendStats:
    name: str
    requests: int = 0
    error_rate_5xx_pct: float = 0.0
    p95_ms: float | None = None
    p99_ms: float | None = None
    servers: tuple[ServerStats, ...] = ()

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> BackendStats:
        servers = tuple(
            ServerStats(name=str(s["name"]), requests=int(s.get("requests") or 0),
                        errors_5xx=float(s.get("errors_5xx") or 0),
                        error_rate_5xx_pct=float(s.get("error_rate_5xx_pct") or 0), p95_ms=s.get("p95_ms"))
            for s in row.get("servers") or [] if isinstance(s, Mapping) and s.get("name")
        )
        return cls(name=str(row.get("name") or ""), requests=int(row.get("requests") or 0),
                   error_rate_5xx_pct=float(row.get("error_rate_5xx_pct") or 0),
                   p95_ms=row.get("p95_ms"), p99_ms=row.get("p99_ms"), servers=servers)


def backend_stats(answer: Mapping[str, Any] | None) -> tuple[BackendStats, ...]:
    """The rows of a get_backends answer (none when the call failed)."""
    return tuple(BackendStats.of(row) for row in (answer or {}).get("backends", []) if row.get("name"))


def counts(answer: Mapping[str, Any] | None, key: str) -> dict[str, int]:
    """A {name: count} map from a tool answer (status_codes, termination_states)."""
    return {str(k): int(v) for k, v in ((answer or {}).get(key) or {}).items()}

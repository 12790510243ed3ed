"""What the deterministic synthesis reads from findings: severities, affected backends (from
`name[backend]` signal keys), status codes and termination states."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

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

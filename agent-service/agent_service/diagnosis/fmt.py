"""Number formatting for rules-engine text: the same rounding the grounding check accepts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent_service.engine import AnalysisContext


def ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def pct(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}%"


def num(value: float | int | None) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.1f}"


def signal_key(name: str, scope: str) -> str:
    """Per-backend signals are keyed `name[backend]` so the synthesis can tell which backend."""
    return f"{name}[{scope}]"


def scope_text(context: AnalysisContext | None) -> str:
    if context is None:
        return ""
    scope = [f"backend {context.scope.backend}" if context.scope.backend else "",
             f"frontend {context.scope.frontend}" if context.scope.frontend else ""]
    text = ", ".join(s for s in scope if s)
    return f" ({text})" if text else ""

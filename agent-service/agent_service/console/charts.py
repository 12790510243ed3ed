"""Small per-minute charts as inline SVG, drawn on the server. Pure: numbers in, markup out; the
only text in the markup (the label) is escaped here."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 240, 56, 3


def _segments(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Runs of known values (a None minute breaks the line)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((index, float(value)))
    return [run for run in runs if run]


def points(values: Sequence[float | None], *, width: int = WIDTH, height: int = HEIGHT) -> list[str]:
    """One `points` attribute per run: x spread over the minutes, y from 0 (bottom) to the top value."""
    known = [v for v in values if v is not None]
    top = max(known, default=0.0) or 1.0
    step = (width - 2 * PAD) / max(len(values) - 1, 1)
    span = height - 2 * PAD

    def xy(index: int, value: float) -> str:
        return f"{PAD + index * step:.1f},{height - PAD - span * max(value, 0.0) / top:.1f}"

    return [" ".join(xy(i, v) for i, v in run) for run in _segments(values)]


def sparkline(values: Sequence[float | None], *, label: str, unit: str = "", bad_above: float | None = None) -> Markup:
    """An SVG line of `values` (oldest first) named `label` for screen readers; red when the
    latest known value passes `bad_above`."""
    known = [v for v in values if v is not None]
    latest = known[-1] if known else None
    css = "bad" if bad_above is not None and latest is not None and latest > bad_above else "line"
    summary = f"{label}: {len(values)} minutes, latest {'no data' if latest is None else f'{latest:g}{unit}'}"
    lines = "".join(f'<polyline class="{css}" points="{p}"/>' for p in points(values))
    if len(known) == 1:  # a single minute: a dot, not an invisible line
        x, y = points(values)[0].split(",")
        lines = f'<circle class="{css}" cx="{x}" cy="{y}" r="2"/>'
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(summary)}"><title>{escape(summary)}</title>'
        f'<line class="axis" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}"/>{lines}</svg>'
    )

"""Small per-minute charts as inline SVG, drawn on the server. Pure: numbers in, markup out; the
only text in the markup (the label) is escaped here."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

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


_SVG = Markup('<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{summary}">'
              '<title>{summary}</title><line class="axis" x1="{pad}" y1="{base}" x2="{right}" y2="{base}"/>{lines}</svg>')
_LINE = Markup('<polyline class="{css}" points="{points}"/>')
_DOT = Markup('<circle class="{css}" cx="{x}" cy="{y}" r="2"/>')


def sparkline(values: Sequence[float | None], *, label: str, unit: str = "", bad_above: float | None = None) -> Markup:
    """An SVG line of `values` (oldest first) named `label` for screen readers; red when the
    latest known value passes `bad_above`. Markup.format escapes every value put in."""
    known = [v for v in values if v is not None]
    latest = known[-1] if known else None
    css = "bad" if bad_above is not None and latest is not None and latest > bad_above else "line"
    summary = f"{label}: {len(values)} minutes, latest {'no data' if latest is None else f'{latest:g}{unit}'}"
    runs = points(values)
    if len(known) == 1:  # a single minute: a dot, not an invisible line
        x, y = runs[0].split(",")
        lines = _DOT.format(css=css, x=x, y=y)
    else:
        lines = Markup("").join(_LINE.format(css=css, points=run) for run in runs)
    return _SVG.format(w=WIDTH, h=HEIGHT, pad=PAD, base=HEIGHT - PAD, right=WIDTH - PAD, summary=summary, lines=lines)

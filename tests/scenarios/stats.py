"""What a scenario's generated requests say over an analysis window, computed locally.

Used to check that a scenario really crosses (or stays inside) the agent's thresholds, and to
cross-check what ingestion-service reports for the same lines (/metrics/overview, response-times).
Windows follow the ingestion contract: whole minutes by the lines' own timestamps, the minute
holding `end` being the last one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.scenarios.httplog import Request


def quantile(sorted_values: list[int], q: float) -> float:
    """Nearest-rank quantile; 0 for no values."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return float(sorted_values[rank - 1])


@dataclass(frozen=True)
class WindowStats:
    start: float
    end: float
    total: int
    errors_4xx: int
    errors_5xx: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_srv_queue: int
    max_backend_queue: int
    queued: int
    status_codes: dict[int, int] = field(default_factory=dict)

    @property
    def rate_4xx_pct(self) -> float:
        return 100.0 * self.errors_4xx / self.total if self.total else 0.0

    @property
    def rate_5xx_pct(self) -> float:
        return 100.0 * self.errors_5xx / self.total if self.total else 0.0

    @property
    def rps(self) -> float:
        return self.total / (self.end - self.start)


def minute_window(end: float, window_s: float) -> tuple[float, float]:
    """[start, stop) of a whole-minute window whose last minute holds `end`."""
    stop = (math.floor(end / 60) + 1) * 60
    return stop - window_s, stop


def window_stats(requests: Iterable[Request], start: float, stop: float, *, backend: str | None = None) -> WindowStats:
    chosen = [r for r in requests if start <= r.at < stop and (backend is None or r.backend == backend)]
    latencies = sorted(r.t_active for r in chosen)
    codes = Counter(r.status for r in chosen)
    return WindowStats(
        start=start,
        end=stop,
        total=len(chosen),
        errors_4xx=sum(n for code, n in codes.items() if 400 <= code < 500),
        errors_5xx=sum(n for code, n in codes.items() if 500 <= code < 600),
        p50_ms=quantile(latencies, 0.50),
        p95_ms=quantile(latencies, 0.95),
        p99_ms=quantile(latencies, 0.99),
        max_srv_queue=max((r.srv_queue for r in chosen), default=0),
        max_backend_queue=max((r.backend_queue for r in chosen), default=0),
        queued=sum(1 for r in chosen if r.t_queue > 0),
        status_codes=dict(sorted(codes.items())),
    )


def describe(stats: WindowStats) -> str:
    return (
        f"{stats.total} req ({stats.rps:.1f}/s), 4xx {stats.rate_4xx_pct:.1f}%, 5xx {stats.rate_5xx_pct:.1f}%, "
        f"p50 {stats.p50_ms:.0f} p95 {stats.p95_ms:.0f} p99 {stats.p99_ms:.0f} ms, "
        f"srv_queue max {stats.max_srv_queue}, queued {stats.queued}"
    )


def main(argv: list[str] | None = None) -> None:
    """Print, per scenario, what its lines say over the analysis window and the one before."""
    import sys
    import time

    from tests.scenarios.generator import generate
    from tests.scenarios.model import load_scenario, scenario_files, seconds
    from tests.scenarios.run import select

    names = sys.argv[1:] if argv is None else argv
    now = time.time()
    for scenario in select(names, scenario_files()[0].parent) if names else map(load_scenario, scenario_files()):
        generated = generate(scenario, end=now)
        window = seconds(scenario.analyze.window)
        start, stop = minute_window(now, window)
        print(f"{scenario.name} ({len(generated.requests)} lines), expect {scenario.expect.overall_severity}")
        print(f"  window   {describe(window_stats(generated.requests, start, stop))}")
        print(f"  previous {describe(window_stats(generated.requests, start - window, start))}")
        if scenario.expect.backend:
            backend = window_stats(generated.requests, start, stop, backend=scenario.expect.backend)
            print(f"  {scenario.expect.backend:8} {describe(backend)}")


if __name__ == "__main__":
    main()

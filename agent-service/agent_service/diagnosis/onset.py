"""A failure that began in the window's last minutes (issue 21): a fast page is analysed about a
minute after the fault started, so the whole window's 5xx share (five healthy minutes before the
alert and one failing one) stays under the thresholds although the minutes since the onset are far
above them. Judged on those minutes alone; only when the whole window did not already decide
(errors.py), the episode is still going on and it is clearly above the scope's own baseline."""

from __future__ import annotations

from datetime import timedelta

from agent_service.diagnosis.case import Case, minute_rate, rate_level
from agent_service.diagnosis.data import ScopeData
from agent_service.diagnosis.fmt import num, pct
from agent_service.diagnosis.hypothesis import Hypothesis
from agent_service.diagnosis.stats import proportion_above


def recent_error_onsets(case: Case) -> list[Hypothesis]:
    out = []
    for b in case.data.of_kind("backend"):
        found = _recent_5xx(case, b)
        if found is not None:
            out.append(found)
    return out


def _recent_5xx(case: Case, b: ScopeData) -> Hypothesis | None:
    th = case.limits.errors
    warning, critical = th.error_5xx_warning_pct, th.error_5xx_critical_pct
    if not case.enough(b) or rate_level(b.now.rate_5xx, warning, critical) != "ok":
        return None  # too small to judge, or judged over the whole window already
    series = b.now_minutes
    timing = case.timing(b, lambda i: (minute_rate(series, "errors_5xx", i) or 0.0) > warning / 100)
    if timing.onset is None or series.start is None or not timing.ongoing or timing.from_start or timing.flapping:
        return None
    first = int((timing.onset - series.start) / timedelta(minutes=1))
    requests, errors = sum(series.col("requests")[first:]), sum(series.col("errors_5xx")[first:])
    if not requests or errors < th.min_errors:
        return None
    rate = 100 * errors / requests
    severity = rate_level(rate, warning, critical)
    before = b.before
    if severity == "ok" or (before.requests and not proportion_above(errors, requests, before.errors_5xx, before.requests)):
        return None
    minutes = len(series) - first
    at = timing.at()
    numbers = {"error_rate_5xx_pct": rate, "errors_5xx": errors, "requests": requests, "minutes_since_onset": minutes,
               "window_error_rate_5xx_pct": b.now.rate_5xx, "window_requests": b.now.requests,
               "baseline_error_rate_5xx_pct": before.rate_5xx}
    return Hypothesis(
        "recent_errors", "errors", severity, b, headline="5xx errors, just started",
        sentence=(f"{b.name} started failing{at}: {pct(rate)} of the {num(requests)} requests since then answered "
                  f"5xx ({num(errors)} errors in {'the last minute' if minutes == 1 else f'{num(minutes)} minutes'}), against {pct(before.rate_5xx)} in the "
                  f"baseline; {pct(b.now.rate_5xx)} over the whole window of {num(b.now.requests)} requests, most "
                  f"of it from before the onset."),
        recommendation=(f"{b.name} started failing{at}, minutes ago: check what changed on it just before (a deploy, "
                        f"its config, a server going down) and its servers' health; the follow-up analysis, with more "
                        f"minutes of data, tells the failure mode apart."),
        support=(f"5xx {pct(rate)} since the onset", "clear onset in the window's last minutes"),
        numbers=numbers, timing=timing)

"""Traffic: drops to zero or by more than the threshold (against the previous window and inside
the window's own per-minute series), and surges."""

from __future__ import annotations

from typing import Any

from agent_service.rules.fmt import num, pct, signal_key, worst
from agent_service.rules.recorder import Recorder
from agent_service.rules.verdict import CheckInput, Verdict
from agent_service.specialists.specs import TrafficThresholds
from agent_service.tools.registry import BACKENDS, OVERVIEW, RPS_SERIES

# Below this many requests in a typical minute, empty minutes are chance, not a drop.
MIN_TYPICAL_PER_MINUTE = 5


def tail_minutes(n: int) -> int:
    """How many of the latest minutes must all be low: enough to be sustained, and more than one
    so a still-filling current minute alone never looks like a drop."""
    return 3 if n >= 8 else 2


def series_drop(requests: list[int], drop_pct: float, min_requests: float) -> tuple[int, int] | None:
    """(typical requests/min before, highest requests/min in the latest minutes) when the latest
    minutes all sit below `drop_pct` under the typical minute before them; else None."""
    n = len(requests)
    if n < 4:
        return None
    k = tail_minutes(n)
    head, tail = requests[: n - k], requests[n - k :]
    # The typical minute once traffic had started (leading empty minutes are before the logs began).
    started = [value for value in head if value > 0]
    if sum(started) < min_requests or not started:
        return None
    typical = sorted(started)[len(started) // 2]
    if typical < MIN_TYPICAL_PER_MINUTE:
        return None
    if max(tail) <= typical * (1 - drop_pct / 100.0):
        return typical, max(tail)
    return None


def series_surge(requests: list[int], surge_pct: float, min_requests: float) -> tuple[int, int] | None:
    n = len(requests)
    if n < 4:
        return None
    k = tail_minutes(n)
    head, tail = [v for v in requests[: n - k] if v > 0], requests[n - k :]
    if not head or sum(head) < min_requests:
        return None
    typical = sorted(head)[len(head) // 2]
    if min(tail) >= typical * (1 + surge_pct / 100.0):
        return typical, min(tail)
    return None


async def check(rec: Recorder, inp: CheckInput, th: TrafficThresholds) -> Verdict:
    drop, surge, min_req = th.traffic_drop_critical_pct, th.traffic_surge_warning_pct, th.min_requests
    ov, rps, backends, prev_backends = await rec.call_many(
        [
            (OVERVIEW, {"window": inp.window}),
            (RPS_SERIES, {"minutes": inp.minutes * 2}),
            (BACKENDS, {"window": inp.window}),
            (BACKENDS, {"window": inp.window, "end": inp.end_of_previous}),
        ]
    )
    if ov is None and rps is None:
        raise LookupError("; ".join(rec.errors) or "no traffic data")
    ov = ov or {}
    previous = ov.get("previous") or {}
    total, prev_total = int(ov.get("total_requests") or 0), int(previous.get("total_requests") or 0)
    cur_rps, prev_rps = float(ov.get("rps") or 0), float(previous.get("rps") or 0)
    both = [int(p.get("requests") or 0) for p in (rps or {}).get("series", [])]
    series, before = both[-inp.minutes :], both[: -inp.minutes]
    # The previous window is a fair baseline only if traffic ran through most of it (not when the
    # logs merely started at its end).
    covered = len(before) > 0 and sum(1 for v in before if v > 0) * 2 >= len(before)
    signals: dict[str, float] = {"requests": total, "rps": cur_rps, "previous_requests": prev_total, "previous_rps": prev_rps}
    parts: list[str] = []
    severities = ["ok"]

    if prev_total >= min_req and total == 0:
        severities.append("critical")
        parts.append(
            f"Traffic fell to zero: 0 requests in the last {inp.window}, against {num(prev_total)} "
            f"in the {inp.window} before."
        )
    elif prev_total >= min_req and cur_rps < prev_rps * (1 - drop / 100.0):
        severities.append("critical")
        parts.append(
            f"Traffic dropped by more than {pct(drop)}: {num(cur_rps)} requests/s in the last {inp.window} "
            f"against {num(prev_rps)} requests/s before ({num(total)} against {num(prev_total)} requests)."
        )
    else:
        dropped = series_drop(series, drop, min_req)
        if dropped:
            severities.append("critical")
            typical, latest = dropped
            if latest == 0:
                parts.append(
                    f"Traffic fell to zero: 0 requests per minute in the latest minutes, after about "
                    f"{num(typical)} requests per minute earlier in the last {inp.window}."
                )
            else:
                parts.append(
                    f"Traffic dropped by more than {pct(drop)}: at most {num(latest)} requests per minute in "
                    f"the latest minutes, after about {num(typical)} per minute earlier in the last {inp.window}."
                )
        elif prev_total >= min_req and covered and cur_rps > prev_rps * (1 + surge / 100.0):
            severities.append("warning")
            parts.append(
                f"Traffic surge: {num(cur_rps)} requests/s in the last {inp.window} against {num(prev_rps)} "
                f"requests/s before."
            )
        else:
            surged = series_surge(series, surge, min_req)
            if surged:
                severities.append("warning")
                parts.append(
                    f"Traffic surge: at least {num(surged[1])} requests per minute in the latest minutes, after "
                    f"about {num(surged[0])} per minute earlier in the last {inp.window}."
                )

    if "critical" not in severities:
        lost = await _backend_drops(rec, inp, backends, prev_backends, drop, min_req, covered)
        current = {b["name"]: b.get("requests", 0) for b in (backends or {}).get("backends", [])}
        for name, sentence in lost[:3]:
            severities.append("critical")
            signals[signal_key("requests", name)] = current.get(name, 0)
            parts.append(sentence)
    severity = worst(*severities)
    if severity == "ok":
        if total == 0 and prev_total == 0:
            parts.append(f"No requests in the last {inp.window} nor in the {inp.window} before: nothing to judge.")
        else:
            parts.append(
                f"Traffic steady: {num(total)} requests ({num(cur_rps)} requests/s) in the last {inp.window}, "
                f"{num(prev_total)} in the {inp.window} before."
            )
    top = sorted((backends or {}).get("backends", []), key=lambda b: -b.get("requests", 0))[:5]
    details = f"Thresholds: a drop of more than {pct(drop)} or to zero is critical; a rise of more than {pct(surge)} is a warning."
    if top:
        details += " Busiest backends: " + ", ".join(f"{b['name']} ({num(b.get('requests'))})" for b in top) + "."
    return Verdict(severity, " ".join(parts), details, signals)


async def _backend_drops(
    rec: Recorder, inp: CheckInput, backends: Any, prev_backends: Any, drop: float, min_req: float, covered: bool
) -> list[tuple[str, str]]:
    """Backends whose own traffic fell while the site's did not: (name, sentence)."""
    current = {b["name"]: int(b.get("requests") or 0) for b in (backends or {}).get("backends", [])}
    before = {b["name"]: int(b.get("requests") or 0) for b in (prev_backends or {}).get("backends", [])}
    if len(set(current) | set(before)) < 2:
        return []  # with one backend the site-wide checks already said it
    lost: list[tuple[str, str]] = []
    for name, count in sorted(before.items(), key=lambda kv: -kv[1]):
        now = current.get(name, 0)
        if covered and count >= min_req and now < count * (1 - drop / 100.0):
            what = "lost its traffic" if now == 0 else f"lost more than {pct(drop)} of its traffic"
            lost.append((name, f"Backend {name} {what}: {num(now)} requests in the last {inp.window} after "
                               f"{num(count)} in the {inp.window} before."))
    # A drop inside the window: each busy backend's latest minutes against the rest of the window,
    # from one more /backends query over the latest minutes (not one series per backend).
    gone = {name for name, _ in lost}
    busy = [n for n, c in current.items() if c >= min_req and n not in gone]
    k = tail_minutes(inp.minutes)
    if not busy or inp.minutes <= k:
        return lost
    latest_window = f"{k}m"
    answer = await rec.call(BACKENDS, window=latest_window)
    latest = {b["name"]: int(b.get("requests") or 0) for b in (answer or {}).get("backends", [])}
    if answer is None:
        return lost
    for name in sorted(busy, key=lambda n: -current[n]):
        recent = latest.get(name, 0)
        earlier = current[name] - recent
        typical = earlier / (inp.minutes - k)
        if earlier >= min_req and typical >= MIN_TYPICAL_PER_MINUTE and recent / k <= typical * (1 - drop / 100.0):
            what = "lost its traffic" if recent == 0 else f"lost more than {pct(drop)} of its traffic"
            lost.append((name, f"Backend {name} {what}: {num(recent)} requests in the last {latest_window}, "
                               f"against {num(current[name])} in the last {inp.window}."))
    return lost

"""Latency: P95/P99 of HAProxy Ta, site-wide and per backend, against the thresholds."""

from __future__ import annotations

from typing import Any

from agent_service.rules.fmt import ms, num, signal_key, worst
from agent_service.rules.recorder import Recorder
from agent_service.rules.verdict import CheckInput, Verdict
from agent_service.specialists.specs import LatencyThresholds
from agent_service.tools.registry import BACKENDS, RESPONSE_TIMES


RISE_FACTOR = 1.5  # a backend's p95 or p99 at least this many times its previous window's: it rose


def rose(current: dict[str, Any], before: dict[str, Any] | None) -> bool | None:
    """Did the backend's latency rise against its own previous window? None when unknown (too few
    requests before)."""
    if before is None:
        return None
    for key in ("p95_ms", "p99_ms"):
        now, then = current.get(key), before.get(key)
        if now is not None and then is not None and then > 0 and now >= RISE_FACTOR * then:
            return True
    return False


def _trend(name: str, backend: dict[str, Any], before: dict[str, Any] | None, window: str,
           signals: dict[str, float]) -> str:
    """The backend against its own previous window; signals `previous_p95_ms[b]`/`previous_p99_ms[b]`
    and `latency_rose[b]` (1 rose, 0 steady) let the synthesis tell a regression from a standing slowness."""
    risen = rose(backend, before)
    if risen is None or before is None:
        return f"No comparable traffic on {name} in the {window} before."
    for key in ("p95_ms", "p99_ms"):
        if before.get(key) is not None:
            signals[signal_key(f"previous_{key}", name)] = before[key]
    signals[signal_key("latency_rose", name)] = 1.0 if risen else 0.0
    then = f"p95 {ms(before.get('p95_ms'))}, p99 {ms(before.get('p99_ms'))}"
    if risen:
        return f"In the {window} before, {name} had {then}: its latency rose."
    return f"In the {window} before, {name} already had {then}: no sharp rise, a standing slowness rather than a new one."


def grade(p95: float | None, p99: float | None, warn95: float, crit99: float) -> str:
    if p99 is not None and p99 > crit99:
        return "critical"
    if p95 is not None and p95 > warn95:
        return "warning"
    return "ok"


async def check(rec: Recorder, inp: CheckInput, th: LatencyThresholds) -> Verdict:
    warn95, crit99, min_req = th.p95_warning_ms, th.p99_critical_ms, th.min_requests
    rt, backends_data = await rec.call_many(
        [(RESPONSE_TIMES, {"window": inp.window}), (BACKENDS, {"window": inp.window})]
    )
    if rt is None and backends_data is None:
        raise LookupError("; ".join(rec.errors) or "no latency data")
    rt = rt or {}
    count = int(rt.get("count") or 0)
    p95, p99 = rt.get("p95_ms"), rt.get("p99_ms")
    signals: dict[str, float] = {"requests": count}
    if p95 is not None:
        signals["p95_ms"] = p95
    if p99 is not None:
        signals["p99_ms"] = p99
    site = grade(p95, p99, warn95, crit99) if count >= min_req else "ok"

    offenders: list[tuple[str, dict[str, Any]]] = []
    for backend in (backends_data or {}).get("backends", []):
        if backend.get("requests", 0) < min_req:
            continue
        sev = grade(backend.get("p95_ms"), backend.get("p99_ms"), warn95, crit99)
        if sev != "ok":
            offenders.append((sev, backend))
    offenders.sort(key=lambda item: (item[0] != "critical", -(item[1].get("p99_ms") or 0)))
    severity = worst(site, *(sev for sev, _ in offenders))

    previous, previous_backends = None, None
    if severity != "ok":  # the trend, only when there is something to explain: like with like,
        # the site against the site's previous window, each backend against its own
        previous, previous_backends = await rec.call_many([
            (RESPONSE_TIMES, {"window": inp.window, "end": inp.end_of_previous}),
            (BACKENDS, {"window": inp.window, "end": inp.end_of_previous}),
        ])
    before = {
        b["name"]: b
        for b in (previous_backends or {}).get("backends", [])
        if b.get("name") and b.get("requests", 0) >= min_req
    }
    parts: list[str] = []
    details: list[str] = [
        f"Thresholds: p95 above {ms(warn95)} is a warning, p99 above {ms(crit99)} is critical."
    ]
    for sev, backend in offenders[:3]:
        name = backend["name"]
        parts.append(
            f"Backend {name} is slow: p99 {ms(backend.get('p99_ms'))}, p95 {ms(backend.get('p95_ms'))} "
            f"over {num(backend.get('requests'))} requests ({sev})."
        )
        if backend.get("p99_ms") is not None:
            signals[signal_key("p99_ms", name)] = backend["p99_ms"]
        if backend.get("p95_ms") is not None:
            signals[signal_key("p95_ms", name)] = backend["p95_ms"]
        parts.append(_trend(name, backend, before.get(name), inp.window, signals))
    if count < min_req:
        parts.append(f"Only {num(count)} requests in the last {inp.window}: too few to judge latency.")
    elif offenders or severity != "ok":
        parts.append(f"Site-wide p95 {ms(p95)}, p99 {ms(p99)} over {num(count)} requests.")
    else:
        parts.append(
            f"Latency within thresholds: p95 {ms(p95)}, p99 {ms(p99)} over {num(count)} requests "
            f"in the last {inp.window}."
        )
    if previous and previous.get("count"):
        prev95, prev99 = previous.get("p95_ms"), previous.get("p99_ms")
        if prev99 is not None:
            signals["previous_p99_ms"] = prev99
        parts.append(f"Site-wide in the {inp.window} before: p95 {ms(prev95)}, p99 {ms(prev99)}.")
    elif severity != "ok":
        details.append("No traffic in the previous window to compare with.")
    if len(offenders) > 3:
        details.append(f"{len(offenders) - 3} more slow backends: " + ", ".join(b["name"] for _, b in offenders[3:10]))
    if rt.get("max_ms") is not None:
        details.append(f"Slowest request: {ms(rt.get('max_ms'))}; p50 {ms(rt.get('p50_ms'))}.")
    return Verdict(severity=severity, summary=" ".join(parts), details=" ".join(details), signals=signals)

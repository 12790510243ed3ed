"""Errors: 5xx and 4xx rates site-wide and per backend, status codes and termination states."""

from __future__ import annotations

from typing import Any

from agent_service.rules import termination
from agent_service.rules.fmt import num, pct, signal_key, worst
from agent_service.rules.recorder import Recorder
from agent_service.rules.verdict import CheckInput, Verdict
from agent_service.tools.registry import BACKENDS, OVERVIEW, STATUS_CODES, TERMINATION_STATES

MAX_BACKEND_PROBES = 8


def grade_5xx(rate: float, warn: float, crit: float) -> str:
    return "critical" if rate > crit else "warning" if rate > warn else "ok"


def top_codes(codes: dict[str, int], klass: str, limit: int = 3) -> list[tuple[str, int]]:
    rows = [(code, n) for code, n in codes.items() if code.startswith(klass) and n > 0]
    return sorted(rows, key=lambda row: -row[1])[:limit]


async def check(rec: Recorder, inp: CheckInput) -> Verdict:
    warn5, crit5 = inp.t("error_5xx_warning_pct", 5), inp.t("error_5xx_critical_pct", 10)
    warn4 = inp.t("error_4xx_warning_pct", 20)
    min_req = inp.t("min_requests", 20)
    window = {"window": inp.window}
    ov, codes_data, backends_data = await rec.call_many(
        [(OVERVIEW, window), (STATUS_CODES, window), (BACKENDS, window)]
    )
    if ov is None:
        raise LookupError("; ".join(rec.errors) or "no overview")
    codes = (codes_data or {}).get("status_codes", {})
    backends = (backends_data or {}).get("backends", [])

    total = int(ov.get("total_requests") or 0)
    rate5 = float(ov.get("error_rate_5xx_pct") or 0.0)
    rate4 = float(ov.get("error_rate_4xx_pct") or 0.0)
    signals: dict[str, float] = {"requests": total, "error_rate_5xx_pct": rate5, "error_rate_4xx_pct": rate4}
    if total < min_req:
        return Verdict(
            "ok",
            f"Only {num(total)} requests in the last {inp.window}: too few to judge error rates.",
            signals=signals,
        )

    sev5 = grade_5xx(rate5, warn5, crit5)
    bad5: list[tuple[str, dict[str, Any]]] = []
    for backend in backends:
        if backend.get("requests", 0) >= min_req:
            sev = grade_5xx(float(backend.get("error_rate_5xx_pct") or 0), warn5, crit5)
            if sev != "ok":
                bad5.append((sev, backend))
    bad5.sort(key=lambda item: -float(item[1].get("error_rate_5xx_pct") or 0) * item[1].get("requests", 0))
    sev4 = "warning" if rate4 > warn4 else "ok"

    # 4xx per backend: /backends has no 4xx rate, so ask each busy backend's status codes (at once).
    bad4: list[tuple[str, float, list[tuple[str, int]]]] = []
    # A backend's 4xx rate is at most the site's 4xx count over its requests: only backends where
    # that bound passes the threshold can be above it, so only those are asked.
    site_4xx = int(ov.get("errors_4xx") or 0)
    busy = [
        b["name"]
        for b in sorted(backends, key=lambda b: -b.get("requests", 0))
        if b.get("requests", 0) >= min_req and site_4xx * 100.0 > warn4 * b["requests"]
    ]
    busy = busy[:MAX_BACKEND_PROBES] if len(backends) > 1 else []
    answers = await rec.call_many([(STATUS_CODES, {"window": inp.window, "backend": n}) for n in busy])
    for name, answer in zip(busy, answers, strict=True):
        scoped_codes = (answer or {}).get("status_codes", {})
        scoped_total = sum(scoped_codes.values())
        scoped_4xx = sum(n for code, n in scoped_codes.items() if code.startswith("4"))
        if scoped_total >= min_req and scoped_4xx * 100.0 > warn4 * scoped_total:
            bad4.append((name, round(100.0 * scoped_4xx / scoped_total, 1), top_codes(scoped_codes, "4", 2)))
    bad4.sort(key=lambda row: -row[1])
    if bad4:
        sev4 = "warning"

    severity = worst(sev5, sev4, *(sev for sev, _ in bad5))
    parts: list[str] = []
    details = [
        f"Thresholds: 5xx above {pct(warn5)} is a warning, above {pct(crit5)} critical; "
        f"4xx above {pct(warn4)} is a warning."
    ]
    for sev, backend in bad5[:3]:
        name = backend["name"]
        rate = float(backend.get("error_rate_5xx_pct") or 0)
        signals[signal_key("error_rate_5xx_pct", name)] = rate
        parts.append(
            f"Backend {name} answers 5xx to {pct(rate)} of its {num(backend.get('requests'))} requests ({sev})."
        )
        dominant = _dominant_server(backend)
        if dominant:
            server, text = dominant
            parts.append(text)
            signals[signal_key("server_error_rate_5xx_pct", f"{name}/{server['name']}")] = float(
                server.get("error_rate_5xx_pct") or 0
            )
    if severity == "ok":
        parts.append(
            f"Error rates within thresholds: 5xx {pct(rate5)}, 4xx {pct(rate4)} of {num(total)} requests "
            f"in the last {inp.window}."
        )
    else:
        parts.append(f"Site-wide: 5xx {pct(rate5)}, 4xx {pct(rate4)} of {num(total)} requests.")
    five = top_codes(codes, "5")
    four = top_codes(codes, "4")
    if sev5 != "ok" or bad5:
        parts.append("Most frequent 5xx: " + ", ".join(f"{c} × {num(n)}" for c, n in five) + ".")
    if sev4 != "ok":
        where = ""
        if bad4:
            name, rate, scoped_top = bad4[0]
            signals[signal_key("error_rate_4xx_pct", name)] = rate
            requests = next((b.get("requests") for b in backends if b.get("name") == name), None)
            where = (
                f" Backend {name} answers 4xx above the {pct(warn4)} threshold: "
                + ", ".join(f"{c} × {num(n)}" for c, n in scoped_top)
                + (f" of its {num(requests)} requests." if requests else ".")
            )
        parts.append("Most frequent 4xx: " + ", ".join(f"{c} × {num(n)}" for c, n in four) + "." + where)
    flagged = (five if sev5 != "ok" or bad5 else []) + (four if sev4 != "ok" else [])
    for _, _, scoped_top in bad4[:1]:
        flagged += [row for row in scoped_top if row[0] not in {c for c, _ in flagged}]
    for code, n in flagged:
        signals[f"status_{code}"] = n
    states: dict[str, int] = {}
    if severity != "ok":  # what the proxy saw, to explain the errors
        answer = await rec.call(TERMINATION_STATES, window=inp.window)
        states = (answer or {}).get("termination_states", {})
    odd = termination.abnormal(states)
    if odd and severity != "ok":
        state, n = odd[0]
        parts.append(f"Top abnormal termination state {state} × {num(n)}: {termination.meaning(state)}.")
        for state, n in odd[:4]:
            signals[f"termination_{state}"] = n
    if odd:
        details.append(
            "Termination states: "
            + "; ".join(f"{s} × {num(n)} ({termination.meaning(s)})" for s, n in odd[:6])
            + "."
        )
    if len(bad5) > 3:
        details.append("Other backends with 5xx: " + ", ".join(b["name"] for _, b in bad5[3:10]) + ".")
    return Verdict(severity, " ".join(parts), " ".join(details), signals)


def _dominant_server(backend: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """When ingestion reports servers per backend, the one whose errors dominate, with a sentence."""
    servers = [s for s in backend.get("servers") or [] if isinstance(s, dict) and s.get("name")]
    if len(servers) < 2:
        return None
    def errors(s: dict[str, Any]) -> float:
        return float(s.get("errors_5xx") or 0) or float(s.get("error_rate_5xx_pct") or 0) * s.get("requests", 0) / 100
    total = sum(errors(s) for s in servers)
    top = max(servers, key=errors)
    if total > 0 and errors(top) / total >= 0.6:
        rate = float(top.get("error_rate_5xx_pct") or 0)
        return top, (f"Server {top['name']} of {backend['name']} alone returns 5xx on {pct(rate)} of its "
                     "requests, most of the backend's errors.")
    return None

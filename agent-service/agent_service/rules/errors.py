"""Errors: 5xx and 4xx rates site-wide and per backend, status codes and termination states.
fetch (rules/fetch.py) → ErrorFacts → grade_errors (pure) → words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from agent_service.rules import termination
from agent_service.rules.facts import BackendStats
from agent_service.rules.fmt import num, pct, signal_key
from agent_service.rules.grades import Grade, Grades, Level, ScopeRef, SITE, level_above
from agent_service.rules.verdict import Verdict
from agent_service.specialists.specs import ErrorsThresholds
from agent_service.tools.registry import BACKENDS, OVERVIEW, STATUS_CODES


@dataclass(frozen=True)
class ErrorFacts:
    requests: int
    errors_4xx: int
    rate_5xx: float
    rate_4xx: float
    codes: Mapping[str, int] = field(default_factory=dict)  # site-wide status codes
    backends: tuple[BackendStats, ...] = ()
    backend_codes: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # probed backends only


def top_codes(codes: Mapping[str, int], klass: str, limit: int = 3) -> list[tuple[str, int]]:
    rows = [(code, n) for code, n in codes.items() if code.startswith(klass) and n > 0]
    return sorted(rows, key=lambda row: -row[1])[:limit]


def backends_to_probe(facts: ErrorFacts, th: ErrorsThresholds) -> list[str]:
    """Backends whose 4xx rate could pass the threshold: at most the site's 4xx count over their
    requests, so only those where that bound passes are asked (/backends has no 4xx rate)."""
    if len(facts.backends) < 2:
        return []
    busy = [b.name for b in sorted(facts.backends, key=lambda b: -b.requests)
            if b.requests >= th.min_requests and facts.errors_4xx * 100.0 > th.error_4xx_warning_pct * b.requests]
    return busy[: th.max_backend_probes]


def grade_5xx(rate: float, th: ErrorsThresholds) -> Level:
    return level_above(rate, warning=th.error_5xx_warning_pct, critical=th.error_5xx_critical_pct)


def dominant_server(backend: BackendStats, share: float) -> tuple[str, float, float] | None:
    """(server, its share of the backend's 5xx, its 5xx rate) when one server answers at least
    `share` of them; None with fewer than two servers."""
    if len(backend.servers) < 2:
        return None
    total = sum(s.five_xx for s in backend.servers)
    top = max(backend.servers, key=lambda s: s.five_xx)
    if total > 0 and top.five_xx / total >= share:
        return top.name, top.five_xx / total, top.error_rate_5xx_pct
    return None


def grade_errors(facts: ErrorFacts, th: ErrorsThresholds) -> Grades:
    """Site 5xx and 4xx; each backend's 5xx (worst first by errors), the server that dominates a
    failing backend's 5xx; the 4xx of each probed backend (highest rate first)."""
    if facts.requests < th.min_requests:
        return Grades(judged=False)
    site5 = Grade("error_rate_5xx", grade_5xx(facts.rate_5xx, th), SITE,
                  {"rate_pct": facts.rate_5xx, "requests": facts.requests}, (OVERVIEW,))
    site4 = Grade("error_rate_4xx", level_above(facts.rate_4xx, warning=th.error_4xx_warning_pct), SITE,
                  {"rate_pct": facts.rate_4xx, "requests": facts.requests}, (OVERVIEW,))
    judged = [b for b in facts.backends if b.requests >= th.min_requests]
    by_errors = sorted(judged, key=lambda b: -b.error_rate_5xx_pct * b.requests)
    items: list[Grade] = [site5, site4]
    for b in by_errors:
        level = grade_5xx(b.error_rate_5xx_pct, th)
        items.append(Grade("error_rate_5xx", level, ScopeRef.backend(b.name),
                           {"rate_pct": b.error_rate_5xx_pct, "requests": b.requests}, (BACKENDS,)))
        top = dominant_server(b, th.dominant_server_share) if level != "ok" else None
        if top:
            items.append(Grade("server_dominates_5xx", level, ScopeRef.server(b.name, top[0]),
                               {"share": top[1], "rate_pct": top[2]}, (BACKENDS,)))
    bad4: list[Grade] = []
    for name, codes in facts.backend_codes.items():
        total = sum(codes.values())
        fours = sum(n for code, n in codes.items() if code.startswith("4"))
        if total >= th.min_requests and fours * 100.0 > th.error_4xx_warning_pct * total:
            numbers = {"rate_pct": round(100.0 * fours / total, 1), "requests": float(total)}
            numbers |= {f"status_{code}": float(n) for code, n in top_codes(codes, "4", 2)}
            bad4.append(Grade("error_rate_4xx", "warning", ScopeRef.backend(name), numbers, (STATUS_CODES,)))
    items += sorted(bad4, key=lambda g: -g.numbers["rate_pct"])
    return Grades(tuple(items))


def words(facts: ErrorFacts, grades: Grades, th: ErrorsThresholds, *, window: str,
          states: Mapping[str, int]) -> Verdict:
    signals: dict[str, float] = {"requests": facts.requests, "error_rate_5xx_pct": facts.rate_5xx,
                                 "error_rate_4xx_pct": facts.rate_4xx}
    if not grades.judged:
        return Verdict("ok", f"Only {num(facts.requests)} requests in the last {window}: too few to judge error rates.",
                       signals=signals)
    severity = grades.severity
    bad5 = [g for g in grades.named("error_rate_5xx") if g.scope.kind == "backend"]
    bad4 = [g for g in grades.named("error_rate_4xx") if g.scope.kind == "backend"]
    servers = {g.scope.name.partition("/")[0]: g for g in grades.named("server_dominates_5xx")}
    site5, site4 = grades.first("error_rate_5xx"), grades.first("error_rate_4xx")
    five_flagged = (site5 is not None and site5.severity != "ok") or bool(bad5)
    four_flagged = (site4 is not None and site4.severity != "ok") or bool(bad4)
    parts: list[str] = []
    details = [
        f"Thresholds: 5xx above {pct(th.error_5xx_warning_pct)} is a warning, above {pct(th.error_5xx_critical_pct)} "
        f"critical; 4xx above {pct(th.error_4xx_warning_pct)} is a warning."
    ]
    for g in bad5[:3]:
        name = g.scope.name
        signals[signal_key("error_rate_5xx_pct", name)] = g.numbers["rate_pct"]
        parts.append(f"Backend {name} answers 5xx to {pct(g.numbers['rate_pct'])} of its "
                     f"{num(g.numbers['requests'])} requests ({g.severity}).")
        server = servers.get(name)
        if server:
            server_name = server.scope.name.partition("/")[2]
            parts.append(f"Server {server_name} of {name} alone returns 5xx on {pct(server.numbers['rate_pct'])} of "
                         "its requests, most of the backend's errors.")
            signals[signal_key("server_error_rate_5xx_pct", server.scope.name)] = server.numbers["rate_pct"]
    if severity == "ok":
        parts.append(f"Error rates within thresholds: 5xx {pct(facts.rate_5xx)}, 4xx {pct(facts.rate_4xx)} of "
                     f"{num(facts.requests)} requests in the last {window}.")
    else:
        parts.append(f"Site-wide: 5xx {pct(facts.rate_5xx)}, 4xx {pct(facts.rate_4xx)} of {num(facts.requests)} requests.")
    five, four = top_codes(facts.codes, "5"), top_codes(facts.codes, "4")
    if five_flagged:
        parts.append("Most frequent 5xx: " + ", ".join(f"{c} × {num(n)}" for c, n in five) + ".")
    scoped_top: list[tuple[str, int]] = []
    if four_flagged:
        where = ""
        if bad4:
            g = bad4[0]
            name = g.scope.name
            signals[signal_key("error_rate_4xx_pct", name)] = g.numbers["rate_pct"]
            scoped_top = [(k[7:], int(v)) for k, v in g.numbers.items() if k.startswith("status_")]
            requests = next((b.requests for b in facts.backends if b.name == name), None)
            where = (f" Backend {name} answers 4xx above the {pct(th.error_4xx_warning_pct)} threshold: "
                     + ", ".join(f"{c} × {num(n)}" for c, n in scoped_top)
                     + (f" of its {num(requests)} requests." if requests else "."))
        parts.append("Most frequent 4xx: " + ", ".join(f"{c} × {num(n)}" for c, n in four) + "." + where)
    flagged = (five if five_flagged else []) + (four if four_flagged else [])
    flagged += [row for row in scoped_top if row[0] not in {c for c, _ in flagged}]
    for code, n in flagged:
        signals[f"status_{code}"] = n
    odd = termination.abnormal(dict(states))
    if odd:
        state, n = odd[0]
        parts.append(f"Top abnormal termination state {state} × {num(n)}: {termination.meaning(state)}.")
        for state, n in odd[:4]:
            signals[f"termination_{state}"] = n
        details.append("Termination states: "
                       + "; ".join(f"{s} × {num(n)} ({termination.meaning(s)})" for s, n in odd[:6]) + ".")
    if len(bad5) > 3:
        details.append("Other backends with 5xx: " + ", ".join(g.scope.name for g in bad5[3:10]) + ".")
    return Verdict(severity, " ".join(parts), " ".join(details), signals)

"""The deterministic synthesis: title, diagnosis and prioritized recommendations from findings.

Used by the rules engine, and by the orchestrator when an LLM synthesis fails.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent_service.engine import AnalysisContext, Synthesis
from agent_service.models import SPECIALISTS, Finding
from agent_service.diagnosis.fmt import scope_text
from agent_service.rules.facts import Facts, read

_LABEL = {"latency": "high latency", "errors": "errors", "saturation": "saturation", "traffic": "traffic"}
MAX_RECOMMENDATIONS = 6


def synthesize(findings: Sequence[Finding], context: AnalysisContext | None = None) -> Synthesis:
    facts = read(findings)
    overall = facts.overall()
    ordered = sorted(findings, key=lambda f: SPECIALISTS.index(f.specialist))
    where = scope_text(context)
    done = [f.specialist for f in ordered if f.status == "completed"]
    if not done:
        title = f"Analysis incomplete: no signal could be read{where}"
        story = "None of the specialists could read its signals, so nothing can be said about the service's health."
    elif overall == "ok":
        partial = f" ({len(done)} of {len(ordered)} specialists finished)" if len(done) < len(ordered) else ""
        title = f"Healthy: golden signals within thresholds{where}{partial}"
        story = f"The {_names(done)} specialists found their golden signals within thresholds."
    else:
        title = f"{overall.capitalize()}: {_problems(facts)}{_on(facts) or where}"
        story = _story(facts)
    lines = [story]
    for finding in ordered:
        if finding.status != "completed":
            lines.append(f"The {finding.specialist} specialist did not finish ({finding.status}): {finding.error or 'no reason given'}.")
        elif finding.severity in {"warning", "critical"}:
            # The essentials of each finding; its full summary is in the findings below.
            lines.append(f"{finding.specialist.capitalize()} ({finding.severity}): {essentials(finding.summary)}")
    recs = _recommendations(facts)
    return Synthesis(title=title[:200], diagnosis=" ".join(lines), recommendations=recs, overall_severity=overall)  # type: ignore[arg-type]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def essentials(summary: str, *, limit: int = 3) -> str:
    """The first sentences of a finding's summary, leaving out the site-wide context lines that
    repeat across findings ("16.7%" and "p99 2.5 s" do not end a sentence)."""
    sentences = [s for s in _SENTENCE_END.split(summary.strip()) if s]
    kept = [s for i, s in enumerate(sentences) if i == 0 or not s.startswith("Site-wide")]
    return " ".join(kept[:limit])


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _on(facts: Facts) -> str:
    backends = facts.scoped("p99_ms", "p95_ms", "error_rate_5xx_pct", "queued_requests", "requests", "error_rate_4xx_pct")
    if not backends:
        return ""
    return f" on backend {backends[0]}" + (f" (and {len(backends) - 1} more)" if len(backends) > 1 else "")


def _problems(facts: Facts) -> str:
    names: list[str] = []
    if facts.bad("traffic"):
        names.append("traffic drop" if facts.sev("traffic") == "critical" else "traffic surge")
    if facts.bad("latency"):
        names.append("high latency")
    if facts.bad("errors"):
        names.append(_error_label(facts))
    if facts.bad("saturation"):
        names.append("queueing" if _queueing(facts) else "Redis memory pressure" if _redis_hot(facts) else "saturation")
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def _error_label(facts: Facts) -> str:
    fivexx = facts.scoped("error_rate_5xx_pct") or any(c >= 500 for c in facts.codes)
    auth = _auth_codes(facts)
    if fivexx and not _regressed(facts):
        failing = facts.scoped("error_rate_5xx_pct")
        server = facts.bad_server(failing[0]) if failing else None
        if server:
            return f"5xx errors (one bad server, {server})"
        if _refused(facts):
            return "5xx errors (servers down or refusing connections)"
        if _aborted(facts):
            return "5xx errors (servers aborting connections)"
    if fivexx:
        return "5xx errors"
    if auth:
        return f"{auth[0]} errors (authentication)"
    fourxx = sorted((c for c in facts.codes if 400 <= c < 500), key=lambda c: -facts.codes[c])
    return f"{fourxx[0]} client errors" if fourxx else "client errors"


def _auth_codes(facts: Facts) -> list[int]:
    four = {c: n for c, n in facts.codes.items() if 400 <= c < 500}
    if not four:
        return []
    top = max(four, key=lambda c: four[c])
    return [top] if top in (401, 403) else []


def _queueing(facts: Facts) -> bool:
    sat = facts.signals.get("saturation", {})
    return facts.bad("saturation") and bool(facts.scoped("queued_requests") or sat.get("queued_requests", 0) > 0)


def _redis_hot(facts: Facts) -> bool:
    sat = facts.signals.get("saturation", {})
    # The saturation finding carries the threshold it judged Redis memory by (specs.py, from
    # Settings) only when that grade fired: no threshold of its own here.
    limit = sat.get("redis_memory_warning_pct")
    return facts.bad("saturation") and limit is not None and sat.get("redis_memory_pct", 0) > limit


def _five_xx(facts: Facts) -> bool:
    return bool(facts.scoped("error_rate_5xx_pct")) or any(c >= 500 for c in facts.codes)


def _top_state(facts: Facts) -> str:
    """The most frequent abnormal termination state (signals keep them most frequent first)."""
    return next(iter(facts.terminations), "")


def _refused(facts: Facts) -> bool:
    state = _top_state(facts)
    return state[:2] in {"SC", "sC", "DC"} or state[:1] == "D"


def _aborted(facts: Facts) -> bool:
    """Servers closing the connection before a full answer (SH--, SD--): a crashing or bad server."""
    return _top_state(facts)[:2] in {"SH", "SD"}


def _who(facts: Facts) -> tuple[list[str], list[str], list[str]]:
    """The backends that are slow, failing (5xx) and queueing, worst first."""
    return facts.scoped("p99_ms", "p95_ms"), facts.scoped("error_rate_5xx_pct"), facts.scoped("queued_requests")


def _regressed(facts: Facts) -> list[str]:
    """Backends whose latency and 5xx rose together: slow, failing, and slower than in their own
    previous window. A backend that was already this slow before and only now fails is not one."""
    if not (facts.bad("latency") and facts.bad("errors")):
        return []
    slow, failing, _ = _who(facts)
    return [b for b in slow if b in failing and facts.latency_rose(b)]


def _steady(facts: Facts, backend: str) -> bool:
    """Compared with its own previous window, the backend's latency did not rise."""
    return facts.signals.get("latency", {}).get(f"latency_rose[{backend}]") == 0.0


def _surge(facts: Facts) -> bool:
    return facts.sev("traffic") == "warning"


def _story(facts: Facts) -> str:
    slow, failing, queueing = _who(facts)
    if facts.sev("traffic") == "critical":
        lost = facts.scoped("requests")
        if lost:
            return (f"Traffic to backend {lost[0]} collapsed while the rest of the site kept its traffic: requests "
                    "are no longer routed to it (routing rule, ACL or the clients that call it).")
        return ("Traffic collapsed: the problem most likely sits in front of HAProxy (load balancer, DNS, network, "
                "firewall or the clients) or in the log pipeline, rather than in the backends.")
    if _queueing(facts):
        name = (queueing or slow or ["the busiest backend"])[0]
        turned_away = " Requests that waited too long are turned away with 5xx." if facts.bad("errors") else ""
        if _surge(facts):
            return (f"A traffic surge saturated backend {name}: more requests arrive than its servers can take "
                    "(servers at maxconn), so requests wait in HAProxy queues and latency climbs." + turned_away)
        if facts.bad("latency"):
            return (f"Backend {name} is saturated because its requests got slower (a slow dependency, slow queries or "
                    "a recent deploy): each request holds a server connection longer, the servers reach maxconn and "
                    "new requests wait in HAProxy queues." + turned_away)
        return (f"Backend {name} is saturated: requests wait in HAProxy queues for a free server connection "
                "(servers at maxconn)." + turned_away)
    same = _regressed(facts)
    if same:
        return (f"Backend {same[0]} regressed: its latency and its 5xx errors rose together, the signature of a bad "
                "deploy or a failing dependency of that backend.")
    if facts.bad("errors") and _five_xx(facts):
        name = failing[0] if failing else "the site"
        server = facts.bad_server(name)
        if server:
            why = (" (refusing connections)" if _refused(facts)
                   else " (aborting connections, HAProxy answers 502)" if _aborted(facts) else "")
            return (f"One bad server in the pool: server {server} of backend {name} answers most of its 5xx "
                    f"errors{why} while the other servers of {name} stay healthy.")
        if _refused(facts):
            return (f"Servers of {name} are down or refusing connections: HAProxy could not reach a healthy server "
                    "and answered 5xx itself.")
        if _aborted(facts):
            return (f"Backend {name} is failing: its servers abort connections before answering (HAProxy answers "
                    "502 bad gateway); when only part of the requests fail, one bad server in the pool is the usual "
                    "cause.")
        return f"Backend {name} is failing: it answers 5xx errors above the thresholds."
    if facts.bad("errors") and _auth_codes(facts):
        return ("Authentication is failing: a storm of "
                f"{_auth_codes(facts)[0]} responses while 5xx errors and latency stay normal, typical of a broken auth "
                "deploy, rotated keys or expired credentials.")
    if facts.bad("errors"):
        return ("Clients receive many 4xx responses while 5xx errors and latency are normal: a client-side problem "
                "(one misbehaving client, a bot or a bad link), not an outage of the service.")
    if facts.bad("latency"):
        name = slow[0] if slow else "the site"
        return f"Backend {name} is slow but not failing: latency is above the thresholds while errors stay normal."
    if _redis_hot(facts):
        return "A resource is running hot: Redis memory is close to its limit."
    if facts.bad("saturation"):
        return "The saturation specialist flagged a resource running hot."
    if _surge(facts):
        return "Traffic rose sharply; the other signals still hold, so watch for saturation."
    return "The specialists flagged a problem."


def _take_out(backend: str, server: str) -> str:
    return (f"Take server {server} out of the pool of {backend} (`set server {backend}/{server} state maint` "
            f"on the HAProxy runtime API): it answers most of the 5xx. Then read its application logs, and make "
            "its health check test the application, not just the TCP port.")


Rec = tuple[int, str]  # (priority, text): lower first


def _traffic_recs(facts: Facts) -> list[Rec]:
    if facts.sev("traffic") != "critical":
        return []
    lost = facts.scoped("requests")
    if lost:
        return [(0, f"Check why traffic to backend {lost[0]} stopped: HAProxy routing rules/ACLs and recent "
                    "configuration changes, and the clients or upstream services that call it.")]
    return [(0, "Check the path in front of HAProxy: the upstream load balancer, DNS records, network/firewall "
                "rules and whether HAProxy is up and accepting connections."),
            (3, "Confirm the log pipeline still ships logs (HAProxy syslog to ingestion): a silent pipeline "
                "also looks like zero traffic.")]


def _queueing_recs(facts: Facts) -> list[Rec]:
    if not _queueing(facts):
        return []
    slow, _, queueing = _who(facts)
    name = (queueing or slow or ["the saturated backend"])[0]
    scale = (f"Scale out backend {name} (add servers) or raise its servers' maxconn if they have CPU and "
             "memory headroom, so queued requests get a connection.")
    if _surge(facts):
        return [(1, scale), (2, "Check whether the surge is legitimate (campaign, retry storm) or abusive, and "
                                "rate-limit it at HAProxy if needed.")]
    if facts.bad("latency"):
        return [(1, f"Find what slowed {name}: its dependencies (database, downstream APIs, slow queries) and "
                    "its recent deploys; roll back if one coincides."),
                (2, scale + " This buys time; it does not fix the slowness.")]
    return [(1, scale), (3, f"Find what holds connections open on {name} (slow queries, a slow dependency) and "
                            "consider a queue timeout meanwhile.")]


def _regression_recs(facts: Facts) -> list[Rec]:
    same = _regressed(facts)
    if not same or _queueing(facts):
        return []
    server = facts.bad_server(same[0])
    return [*([(1, _take_out(same[0], server))] if server else []),
            (1, f"Roll back the most recent deploy or configuration change of backend {same[0]}, then watch its "
                "p99 latency and 5xx rate recover."),
            (4, f"If nothing was deployed, check the dependencies of {same[0]} (database, downstream APIs) for "
                "slowness or errors.")]


def _five_xx_recs(facts: Facts) -> list[Rec]:
    if not (facts.bad("errors") and _five_xx(facts)) or _regressed(facts) or _queueing(facts):
        return []
    _, failing, _ = _who(facts)
    name = failing[0] if failing else "the failing backend"
    server = facts.bad_server(name) if failing else None
    if server:
        return [(1, _take_out(name, server))]
    if _refused(facts):
        return [(1, f"Check the servers of {name}: health checks, whether the processes run and accept "
                    "connections; restart or replace the dead ones and take a bad server out of the pool "
                    "(`set server <backend>/<server> state maint`).")]
    if _aborted(facts):
        return [(1, f"Find the server of {name} that aborts connections (the server field of the 502 lines in "
                    "the HAProxy log) and take it out of the pool (`set server <backend>/<server> state maint`); "
                    "make its health check test the application, not just the TCP port.")]
    return [(1, f"Look at the application logs of {name} for the cause of the 5xx; if one server dominates "
                "the errors, take it out of the pool; roll back a recent deploy if one coincides.")]


def _four_xx_recs(facts: Facts) -> list[Rec]:
    if not facts.bad("errors"):
        return []
    if _auth_codes(facts):
        return [(1, f"Check authentication: the auth service and its recent deploys, token signing keys and their "
                    f"rotation, and client credentials (a storm of {_auth_codes(facts)[0]}).")]
    if _five_xx(facts):
        return []
    codes = sorted((c for c in facts.codes if 400 <= c < 500), key=lambda c: -facts.codes[c])
    return [(2, "A 4xx flood is not an outage: find the client(s) behind it in the HAProxy logs (source IP, "
                "path) and rate-limit or block them if abusive"
                + (f"; check recent changes for the {codes[0]} responses." if codes else "."))]


def _latency_recs(facts: Facts) -> list[Rec]:
    if not facts.bad("latency") or _regressed(facts) or _queueing(facts):
        return []
    slow, _, _ = _who(facts)
    name = slow[0] if slow else "the slow backend"
    if slow and _steady(facts, name):
        return [(4, f"Backend {name} was as slow in the previous window: a standing slowness, not this "
                    "incident's cause; tune it (or its latency threshold) once the incident is over.")]
    return [(2, f"Find what slowed {name}: compare with its recent deploys (roll back if one coincides) "
                "and check its dependencies and resource usage.")]


def _resource_recs(facts: Facts) -> list[Rec]:
    recs: list[Rec] = []
    if _surge(facts) and not _queueing(facts):
        recs.append((3, "Traffic surged: scale out ahead of saturation and check whether it is legitimate (campaign, "
                        "retry storm) or abusive (rate-limit it)."))
    if _redis_hot(facts):
        recs.append((3, "Redis memory is near maxmemory: raise maxmemory or shorten RETENTION_HOURS, and check the "
                        "eviction policy before signals get evicted."))
    return recs


def _failed_recs(facts: Facts) -> list[Rec]:
    if not facts.failed:
        return []
    reasons = sorted(set(facts.failed.values()))
    if any("unreachable" in r for r in reasons):
        return [(0 if len(facts.failed) == len(facts.severity) else 5,
                 "Check that ingestion-service (INGESTION_URL) is up and reachable, then re-run the analysis: "
                 f"the {_names(list(facts.failed))} specialists could not read their signals.")]
    return [(5, f"Re-run the analysis: the {_names(list(facts.failed))} specialists did not finish "
                f"({'; '.join(reasons)[:200]}).")]


RECOMMENDERS = (_traffic_recs, _queueing_recs, _regression_recs, _five_xx_recs, _four_xx_recs, _latency_recs,
                _resource_recs, _failed_recs)


def _recommendations(facts: Facts) -> list[str]:
    """Each recommender speaks to one problem; the result is ordered by priority (stable), without repeats."""
    recs = [rec for recommender in RECOMMENDERS for rec in recommender(facts)]
    if not recs:
        recs.append((9, "No action needed: keep watching the golden signals."))
    out: list[str] = []
    for _, text in sorted(recs, key=lambda r: r[0]):
        if text not in out:
            out.append(text)
    return out[:MAX_RECOMMENDATIONS]

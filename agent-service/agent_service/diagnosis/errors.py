"""Error modes, told apart by status codes, HAProxy's termination states and where they land:
no server at all (`<NOSRV>`), one server refusing (`SC`) or failing (`SH`, 502), `timeout
server` (`sH`, 504), queue timeouts (`sQ`), connects failing everywhere (the network), the
application's own 5xx (a regression when it has an onset against a clean baseline), connection
retries absorbed before they became errors, and 4xx: auth, rate limits, the proxy's own denials."""

from __future__ import annotations

from agent_service.diagnosis.case import Case, minute_rate, rate_level
from agent_service.diagnosis.changes import nearest_before
from agent_service.diagnosis.data import NOSRV, ScopeData, real_servers, server_name
from agent_service.diagnosis.hypothesis import Hypothesis, Level, Timing
from agent_service.diagnosis.outliers import Count, outliers
from agent_service.diagnosis.stats import proportion_above
from agent_service.diagnosis.fmt import ms, num, pct


def _codes(counts: dict[int, int], limit: int = 3) -> str:
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
    return ", ".join(f"{code} ×{num(n)}" for code, n in top)


def _states(counts: dict[str, int], limit: int = 3) -> str:
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
    return ", ".join(f"{state} ×{num(n)}" for state, n in top)


def _timing_5xx(case: Case, s: ScopeData) -> Timing:
    floor = case.limits.errors.error_5xx_warning_pct / 100
    return case.timing(s, lambda i: (minute_rate(s.now_minutes, "errors_5xx", i) or 0.0) > floor)


def _downgrade(sev: Level, timing: Timing) -> Level:
    return "warning" if sev == "critical" and timing.recovered else sev


def _refusal_counts(servers: list[ScopeData]) -> list[Count]:
    return [Count(server_name(s), s.now.ended("S", "C"), s.now.requests) for s in servers]


def refusing_candidates(case: Case, b: ScopeData) -> list[tuple[str, str, dict[str, float]]]:
    """(server, why, numbers) for each server that refuses connections: its rate of `SC`
    terminations stands out from its peers' pooled rate (outliers.py: a count test, a size
    floor, a margin) — not merely the most `SC` of a pool refusing alike; else the one whose share
    of the backend's requests fell the most against the baseline (HAProxy logs a redispatched
    request on the server that finally answered)."""
    th = case.limits.errors
    servers = real_servers(case.data.servers(b.name))
    found = outliers(_refusal_counts(servers), min_bad=th.min_errors, min_rate=0.0, min_share=th.dominant_server_share)
    if found:
        return [(o.count.name, (f"{num(o.count.bad)} of its {num(o.count.requests)} connections refused (SC--, "
                                f"{pct(100 * o.count.rate)}) against {pct(100 * o.peers_rate)} on its peers"),
                 {"server_refused_pct": 100 * o.count.rate, "peers_refused_pct": 100 * o.peers_rate}) for o in found]
    if not b.before.requests or not b.now.requests or len(servers) < 2:
        return []
    falls = []
    for s in servers:
        before = s.before.requests / b.before.requests
        now = s.now.requests / b.now.requests
        if before >= 0.05:
            falls.append((now / before, s, before, now))
    if not falls:
        return []
    ratio, s, before, now = min(falls, key=lambda f: f[0])
    if ratio <= 0.5:
        return [(server_name(s), (f"its share of the backend's requests fell from {pct(100 * before)} to "
                                  f"{pct(100 * now)}: connections to it fail and are redispatched to its peers"), {
            "server_share_before_pct": 100 * before, "server_share_pct": 100 * now})]
    return []


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _server_outliers(case: Case, b: ScopeData, e5: int, sev: Level, seen: str,
                     numbers: dict[str, float]) -> list[Hypothesis]:
    """The servers whose own 5xx rate stands out from their peers' (outliers.py), each named with
    its numbers — also when the backend as a whole stays under the 5xx thresholds (a warning
    then): one bad server of many dilutes into a small backend rate."""
    th = case.limits.errors
    pool = real_servers(case.data.servers(b.name))
    found = outliers([Count(server_name(s), s.now.errors_5xx, s.now.requests) for s in pool], min_bad=th.min_errors,
                     min_rate=th.error_5xx_warning_pct / 100, min_share=th.dominant_server_share)
    if not found:
        return []
    by_name = {server_name(s): s for s in pool}
    names = [o.count.name for o in found]
    others = len([s for s in pool if s.now.requests]) - len(found)
    backend_timing = _timing_5xx(case, b)
    out = []
    for o in found:
        s, name = by_name[o.count.name], o.count.name
        refused = s.now.ended("S", "C")
        mode, what = (("server_refusing", "refuses connections (SC--)") if refused * 2 >= s.now.errors_5xx
                      else ("server_errors", f"fails ({'; '.join(x for x in (_codes(s.now.codes(500, 600)), _states(s.now.states('SsD'))) if x)})"))
        verb = what.split(" (")[0]
        share = s.now.errors_5xx / e5 if e5 else 1.0
        req_share = s.now.requests / b.now.requests if b.now.requests else 0.0
        # the backend's minutes tell the episodes (a server failing in bursts fills its own minutes);
        # under the backend's threshold they show none: the server's own then
        timing = backend_timing if backend_timing.bad_minutes else _timing_5xx(case, s)
        level = _downgrade(sev if sev != "ok" else "warning", timing)
        alike = f"; {_names([n for n in names if n != name])} also stand{'s' if len(names) == 2 else ''} out" if len(names) > 1 else ""
        who = ("One server" if len(names) == 1 else f"{len(names)} of {len(names) + others} servers")
        healthy = 100 * o.peers_rate <= th.error_5xx_warning_pct
        out.append(Hypothesis(
            mode, "errors", level, b, server=name,
            headline=(f"server {name} {verb}" if len(names) == 1
                      else f"servers {_names(names)} {'refuse connections' if mode == 'server_refusing' else 'fail'}"),
            sentence=(f"{who} {what if len(names) == 1 else 'stand out'}: {b.name}/{name} "
                      f"{'' if len(names) == 1 else verb + ' and '}answers "
                      f"{pct(100 * o.count.rate)} 5xx ({num(s.now.errors_5xx)} of {num(s.now.requests)} requests) "
                      f"against {pct(100 * o.peers_rate)} on its {num(others)} unnamed peer{'' if others == 1 else 's'}"
                      f"{alike}; it holds {pct(100 * share)} of the backend's 5xx with {pct(100 * req_share)} of its "
                      f"requests; {seen}."),
            recommendation=(f"Take {b.name}/{name} out of the pool (drain or maint on HAProxy's runtime API) and "
                            f"look at that server: its unnamed peers answer {pct(100 * o.peers_rate)} 5xx"
                            + (f" ({_names([n for n in names if n != name])} also stand{'s' if len(names) == 2 else ''} "
                               f"out: look at each)" if len(names) > 1 else "") + "."),
            support=(f"{name}: {pct(100 * o.count.rate)} 5xx against {pct(100 * o.peers_rate)} on its peers",),
            against=((f"its peers answer {pct(100 * o.peers_rate)} 5xx: not the backend's code or a shared dependency",)
                     if healthy else ()),
            numbers={**numbers, "server_5xx_share_pct": 100 * share, "server_requests_share_pct": 100 * req_share,
                     "server_error_rate_5xx_pct": 100 * o.count.rate, "peers_error_rate_5xx_pct": 100 * o.peers_rate},
            timing=timing))
    return out


def proxy_made_5xx(case: Case, b: ScopeData) -> int:
    """5xx HAProxy answered itself by a rule (a tarpit's 500, `P` on `<NOSRV>`): no server
    failed them, the proxy-denial mode tells them."""
    if case.data.proxy_only(b):
        return min(b.now.errors_5xx, b.now.proxy_ended)
    nosrv = next((s for s in case.data.servers(b.name) if server_name(s) == NOSRV), None)
    return min(nosrv.now.errors_5xx, nosrv.now.proxy_ended) if nosrv is not None else 0


def _five_xx(case: Case, b: ScopeData) -> list[Hypothesis]:
    th = case.limits.errors
    now = b.now
    e5 = now.errors_5xx - proxy_made_5xx(case, b)
    rate = now.share(e5)
    sev = rate_level(rate, th.error_5xx_warning_pct, th.error_5xx_critical_pct)
    if e5 < th.min_errors:
        return []
    timing = _timing_5xx(case, b)
    codes = _codes(now.codes(500, 600))
    seen = f"{pct(rate)} of {num(now.requests)} requests answered 5xx ({codes})"
    numbers = {"error_rate_5xx_pct": rate, "errors_5xx": e5, "requests": now.requests}
    servers = case.data.servers(b.name)
    nosrv = next((s for s in servers if server_name(s) == NOSRV), None)
    # no server at all: HAProxy's 503 with SC on <NOSRV> (every server down, in maintenance or drained)
    no_server = nosrv is not None and nosrv.now.ended("S", "C") * 2 >= e5
    if not no_server:
        named = _server_outliers(case, b, e5, sev, seen, numbers)
        if named:
            return named
    if sev == "ok":
        return []
    sev = _downgrade(sev, timing)
    if nosrv is not None and no_server:
        return [Hypothesis(
            "no_server", "errors", sev, b, headline="no server available",
            sentence=(f"No server of {b.name} was available: {num(nosrv.now.ended('S', 'C'))} requests were answered "
                      f"503 by HAProxy itself (<NOSRV>, SC--: all servers down or out of the pool); {seen}."),
            recommendation=(f"Bring {b.name}'s servers back: all of them are down or out of the pool — check their "
                            f"health checks (`show servers state {b.name}` on the runtime API), whether they crashed, "
                            f"and the last change made to them."),
            support=(f"{num(nosrv.now.ended('S', 'C'))} requests SC-- on <NOSRV>",), numbers=numbers, timing=timing)]
    pool = real_servers(servers)
    timeouts, queue_timeouts = now.ended("s", "H"), now.ended("s", "Q")
    refused_all = now.ended("Ss", "C")
    if timeouts * 2 >= e5:
        return [Hypothesis(
            "server_timeout", "errors", sev, b, headline="gateway timeouts (504)",
            sentence=f"{b.name}'s servers time out: {num(timeouts)} requests hit `timeout server` (sH--, 504); {seen}.",
            recommendation=(f"Find what {b.name}'s servers wait on (a dependency, locks, a saturated pool): requests "
                            f"reach HAProxy's `timeout server`."),
            support=(f"{num(timeouts)} sH--",), numbers={**numbers, "server_timeouts": timeouts}, timing=timing)]
    if queue_timeouts * 2 >= e5:
        return [Hypothesis(
            "overloaded_queueing", "errors", sev, b, headline="queue timeouts (503)",
            sentence=(f"{b.name} is over capacity: {num(queue_timeouts)} requests waited in the queue until "
                      f"`timeout queue` (sQ--, 503); {seen}."),
            recommendation=f"Add capacity to {b.name} (servers or maxconn) or shed load: requests time out in its queue.",
            support=(f"{num(queue_timeouts)} sQ--",), numbers={**numbers, "queue_timeouts": queue_timeouts}, timing=timing)]
    if refused_all * 2 >= e5 and len(pool) >= 2:
        return [Hypothesis(
            "network_connect", "errors", sev, b, headline="connections to the servers fail",
            sentence=(f"Connections from HAProxy to {b.name}'s servers fail on every server ({num(refused_all)} "
                      f"SC--/sC-- terminations); {seen}."),
            recommendation=(f"Check the network between HAProxy and {b.name}'s servers (firewall, security groups, "
                            f"the servers' listening port): connects fail on the whole pool."),
            support=(f"{num(refused_all)} connect failures",), numbers=numbers, timing=timing)]
    aborted = now.ended("SD", "HD")
    if aborted * 2 >= e5 and len(pool) >= 2:
        return [Hypothesis(
            "servers_aborting", "errors", sev, b, headline="servers abort responses",
            sentence=(f"{b.name}'s servers abort responses ({_states(now.states('SD', 'HD'))}: the server closed the "
                      f"connection before a full answer), spread over the pool; {seen}."),
            recommendation=(f"Look at {b.name}'s server processes: they close connections mid-request (crashes, "
                            f"out-of-memory kills, worker restarts or limits) — check their logs and restarts."),
            support=(f"{num(aborted)} SH--/SD-- terminations",),
            against=("spread over every server: not one bad server",),
            numbers={**numbers, "aborted": aborted}, timing=timing)]
    before = b.before
    clean = before.requests >= case.min_requests_of(b) and before.rate_5xx <= th.error_5xx_warning_pct
    if clean and proportion_above(e5, now.requests, before.errors_5xx, before.requests) and timing.onset:
        at = timing.at()
        return [Hypothesis(
            "regression", "errors", sev, b, headline=_regression_headline(case, b, timing),
            sentence=(f"{b.name} started failing{at}: {seen}, against {pct(before.rate_5xx)} in the baseline, "
                      f"spread over its servers."),
            recommendation=(f"{b.name} regressed{at}: check what changed on it just before (a deploy or release, "
                            f"config, a feature flag) and roll back that change."),
            support=(f"5xx {pct(rate)} against {pct(before.rate_5xx)} before", "clear onset"),
            against=("spread over every server: not one bad server",),
            numbers={**numbers, "baseline_error_rate_5xx_pct": before.rate_5xx}, timing=timing)]
    return [Hypothesis(
        "app_errors", "errors", sev, b, headline="5xx errors",
        sentence=f"{b.name} is failing: {seen}." + (" The errors were already there in the baseline." if not clean and before.requests else ""),
        recommendation=f"Read {b.name}'s application logs around the 5xx ({codes}): every server returns them.",
        support=(seen,), numbers=numbers, timing=timing)]


def _regression_headline(case: Case, b: ScopeData, timing: Timing) -> str:
    """"errors since a change" only when a change event is recorded before the onset on this
    backend (changes.py ties it in the sentence); else the onset time, which is a fact."""
    if case.changes and timing.onset and nearest_before(case.changes, b.name, timing.onset) is not None:
        return "errors since a change"
    if timing.onset is None:
        return "errors in the window"
    return f"errors since {'before ' if timing.from_start else ''}{timing.onset:%H:%M} UTC"


def _retries(case: Case, b: ScopeData) -> list[Hypothesis]:
    th = case.limits.errors
    now, before = b.now, b.before
    retried = max(now.retried, now.redispatches)
    share = now.share(retried)
    if retried < th.min_errors or share < th.retry_warning_pct:
        return []
    if before.requests and not proportion_above(retried, now.requests, max(before.retried, before.redispatches), before.requests):
        return []
    who = refusing_candidates(case, b)
    # "few 5xx" only when they are: under the warning threshold (retries then hide the failures)
    few = now.rate_5xx <= th.error_5xx_warning_pct
    seen = (f"{pct(share)} of {b.name}'s requests needed connection retries ({num(now.retries)} retries, "
            f"{num(now.redispatches)} redispatched to another server) "
            + (f"while only {pct(now.rate_5xx)} failed" if few else f"and {pct(now.rate_5xx)} answered 5xx all the same"))
    numbers = {"retried_pct": share, "retries": now.retries, "redispatches": now.redispatches, "requests": now.requests}
    floor = th.retry_warning_pct / 100
    timing = case.timing(b, lambda i: max(minute_rate(b.now_minutes, "retries", i) or 0.0,
                                          minute_rate(b.now_minutes, "redispatches", i) or 0.0) > floor)
    hidden = ("few 5xx: HAProxy's retries hide the failures from users",) if few else ()
    if who:
        names = [name for name, _, _ in who]
        out = []
        for name, why, extra in who:
            also = [n for n in names if n != name]
            out.append(Hypothesis(
                "server_refusing", "errors", "warning", b, server=name,
                headline=(f"server {name} refuses connections" if not also
                          else f"servers {_names(names)} refuse connections"),
                sentence=(f"{seen}: {b.name}/{name} refuses connections — {why}"
                          + (f"; {_names(also)} also stand{'s' if len(also) == 1 else ''} out" if also else "") + "."),
                recommendation=(f"Take {b.name}/{name} out of the pool (drain or maint on HAProxy's runtime API) and "
                                f"find why it refuses connections (process down, port closed, its own maxconn or "
                                f"backlog)."),
                support=(seen, why), against=hidden, numbers={**numbers, **extra}, timing=timing))
        return out
    return [Hypothesis(
        "retry_storm", "errors", "warning", b, headline="connection retries",
        sentence=f"{seen}: connections to its servers fail and HAProxy retries them, alike on its servers.",
        recommendation=(f"Find why connections to {b.name}'s servers fail (a server restarting, its backlog or "
                        f"maxconn, the network): retries hide it for now but add the connect waits to every request."),
        support=(seen,), against=hidden, numbers=numbers, timing=timing)]


def _frontend_of(case: Case, b: ScopeData) -> ScopeData | None:
    return case.data.find("frontend", b.name) if case.data.proxy_only(b) else None


def _denial(b: ScopeData, denied: int, whole: ScopeData) -> Hypothesis:
    """HAProxy answering by a rule of its own: `PR` (denied: `http-request deny`, a rate limit's
    429), `PT` (tarpitted: held, then 500). Told on the frontend when the frontend itself did it."""
    now = b.now
    states = _states(now.states("P"))
    where = f"frontend {b.name}" if whole is not b else f"backend {b.name}"  # the frontend answered itself
    held = now.ended("P", "T")
    codes = {c: n for c, n in now.status.items() if n and c >= 400}
    limited = codes.get(429, 0) * 2 >= denied
    what, done = (("tarpits", "tarpitted") if held * 2 >= denied else ("rate-limits", "rate-limited") if limited
                  else ("denies", "denied"))
    rule = ("the `http-request tarpit` rule" if what == "tarpits" else
            "the stick-table rate limit (`http-request deny deny_status 429` on a tracked counter)" if limited
            else "the `http-request deny` rule (an ACL)")
    return Hypothesis(
        "proxy_denial", "errors", "warning", b, headline=f"requests {done} by HAProxy",
        sentence=(f"HAProxy itself {what} {pct(whole.now.share(denied))} of the requests of {where} ({states}; "
                  f"{_codes(codes)}): a rule of the proxy answers them, no server sees them"
                  + (f" — each held {ms(now.tw_mean)} on average before its answer" if what == "tarpits"
                     and now.tw_mean and held >= 0.9 * now.requests else "") + "."),
        recommendation=(f"Check {rule} on {where} and when it last changed: HAProxy is already answering these "
                        f"requests itself; loosen the rule if it hits real users, keep it if they are abuse."),
        support=(states,), against=("no server saw these requests: not the servers' fault",),
        numbers={"denied_pct": whole.now.share(denied), "requests": whole.now.requests})


def _four_xx(case: Case, b: ScopeData) -> list[Hypothesis]:
    th = case.limits.errors
    now, before = b.now, b.before
    out: list[Hypothesis] = []
    denied = now.proxy_ended
    # what the denials are a share of: the frontend's traffic when the frontend itself answers
    whole = _frontend_of(case, b) or b
    if denied >= th.min_errors and whole.now.share(denied) >= th.denial_warning_pct and (
            not whole.before.requests
            or proportion_above(denied, whole.now.requests, before.proxy_ended, whole.before.requests)):
        out.append(_denial(b, denied, whole))
    e4 = now.errors_4xx
    if e4 < th.min_errors or now.rate_4xx <= th.error_4xx_warning_pct or out:
        return out
    codes = now.codes(400, 500)
    top = max(codes, key=lambda c: codes[c]) if codes else 0
    kind = {401: ("authentication failures (401)", "check credentials, API keys, token signing and certificates: "
                  "an expired or rotated secret, or a client with old keys"),
            403: ("forbidden requests (403)", "check the authorization rules and which clients are refused"),
            408: ("request timeouts (408)", "clients do not send a complete request within HAProxy's `timeout "
                  "http-request` (a slowloris-style attack, a broken client, or a network losing packets): find "
                  "the clients by source address and block or fix them"),
            429: ("rate-limited clients (429)", "find the client sending too many requests (its IP or key) and "
                  "rate limit or block it")}.get(top, (f"client errors ({top})", "find the client or path sending them"))
    out.append(Hypothesis(
        "client_errors_4xx", "errors", "warning", b, headline=kind[0],
        sentence=f"{b.name} answers {pct(now.rate_4xx)} of {num(now.requests)} requests with 4xx ({_codes(codes)}): {kind[0]}.",
        recommendation=f"On {b.name}: {kind[1]}.",
        numbers={"error_rate_4xx_pct": now.rate_4xx, "errors_4xx": e4, "requests": now.requests}))
    return out


def error_hypotheses(case: Case) -> list[Hypothesis]:
    out: list[Hypothesis] = []
    for b in case.data.of_kind("backend"):
        if case.enough(b):
            found = _five_xx(case, b)
            out += found
            if not any(h.mode == "server_refusing" for h in found):
                out += _retries(case, b)
            out += _four_xx(case, b)
    site = case.data.site
    th = case.limits.errors
    if site is not None and not out and case.enough(site) and site.now.errors_5xx >= th.min_errors:
        sev = rate_level(site.now.rate_5xx, th.error_5xx_warning_pct, th.error_5xx_critical_pct)
        if sev != "ok":
            out.append(Hypothesis(
                "site_errors", "errors", sev, site, headline="5xx errors",
                sentence=f"{pct(site.now.rate_5xx)} of {num(site.now.requests)} requests answered 5xx site-wide.",
                recommendation="Find the failing path: no single backend has enough requests to stand out.",
                numbers={"error_rate_5xx_pct": site.now.rate_5xx}))
    return out

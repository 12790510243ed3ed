"""Latency modes. The user-visible time is HAProxy's `Ta`; what it is made of decides the mode:
server time `Tr` (a slow server, a slow pool, a regression, `timeout server` reached), queue
wait `Tw` (overload), connect time and retries (a refusing server), or client time (clients that
vanish keep `Ta` open until `timeout client`: never a server-latency verdict)."""

from __future__ import annotations

from dataclasses import replace

from agent_service.diagnosis.case import Case, level, mean_of
from agent_service.diagnosis.data import ScopeData, Series, Stats, Timer, real_servers, server_name
from agent_service.diagnosis.hypothesis import RANK, Hypothesis, Timing
from agent_service.diagnosis.stats import median
from agent_service.diagnosis.fmt import ms, num, pct


FEW_FOR_A_TAIL = 200  # below this many requests a p99 rests on one or two of them
MINUTE_FLOOR = 5  # a minute with fewer requests is too thin to say it was slow or back to normal


def _p(t: Timer | None) -> tuple[float | None, float | None]:
    return (t.p95, t.p99) if t else (None, None)


def _server_timer(s: ScopeData) -> Timer:
    return s.now.tr if s.now.tr and s.now.tr.p95 is not None else s.now.ta


def slow_server(case: Case, b: ScopeData) -> tuple[ScopeData, float, float] | None:
    """(server, its p95, the highest p95 of its peers) when one server of the pool is an outlier:
    p95 at least `server_outlier_factor` × its peers' median, above the warning threshold, while
    the peers' median stays under it. Server time (`Tr`) when kept, else `Ta`."""
    th = case.limits.latency
    floor = max(5.0, case.min_requests_of(b) / 4)
    rows = [(s, _server_timer(s).p95) for s in real_servers(case.data.servers(b.name)) if s.now.requests >= floor]
    rows = [(s, p) for s, p in rows if p is not None]
    if len(rows) < 2:
        return None
    server, p95 = max(rows, key=lambda r: r[1])
    peers = [p for s, p in rows if s is not server]
    typical = median(peers)
    if p95 > th.p95_warning_ms and typical <= th.p95_warning_ms and p95 >= th.server_outlier_factor * max(typical, 1.0):
        return server, p95, max(peers)
    return None


def _timing(case: Case, b: ScopeData, use_tr: bool) -> Timing:
    column = "tr_mean_ms" if use_tr else "ta_mean_ms"
    before = (b.before.tr.mean if use_tr and b.before.tr else b.before.ta.mean)
    if before is None:
        before = mean_of(b.before_minutes.means(column))
    means = b.now_minutes.means(column)
    if before is None or not means:
        return Timing()
    limit = max(case.limits.latency.rise_factor * before, 20.0)
    healthy = before + (limit - before) / 2  # clearly back to normal: under the midpoint to the line
    counts = b.now_minutes.col("requests")

    def judged(i: int) -> bool:
        return i < len(counts) and counts[i] >= MINUTE_FLOOR and means[i] is not None

    return case.timing(b, lambda i: judged(i) and means[i] >= limit,  # type: ignore[operator]
                       lambda i: judged(i) and means[i] < healthy)  # type: ignore[operator]


def _settled(h: Hypothesis) -> Hypothesis:
    """A recovered incident is capped at warning and says so first: "recovered at 14:06 UTC"."""
    at = h.timing.recovered_at()
    if not at:
        return h
    severity = "warning" if h.severity == "critical" else h.severity
    return replace(h, severity=severity, headline=f"{at}: {h.headline}",
                   sentence=f"{at[0].upper()}{at[1:]}, over: {h.sentence}")


def _failed(now: Stats) -> int:
    """Requests that failed before any answer: connect failures after HAProxy's retries (SC/sC,
    Ta ≈ retries × the retry turn-around) and servers that sent no headers (SH/sH, Ta up to
    `timeout server`). Their Ta is the failure's time, which the errors finding owns."""
    return now.ended("Ss", "CH")


def _answered_level(now: Stats, tr: Timer | None, case: Case) -> tuple[str, float]:
    """The grade of what the failed requests cannot explain: a p99 rests on the slowest 1 % and a
    p95 on the slowest 5 %, so a failed share at least that large can make it alone; then the
    answered requests' server time (Tr, which failed ones do not have) grades instead."""
    th = case.limits.latency
    failed = now.share(_failed(now))
    p95 = now.ta.p95 if failed < 5.0 else None
    p99 = now.ta.p99 if failed < 1.0 else None
    own = level(p95, p99, th)
    answered = level(*_p(tr), th) if tr is not None else own
    return (own if RANK[own] >= RANK[answered] else answered), failed


def _typical(series: Series, column: str) -> float | None:
    """The median of a span's per-minute means (minutes with MINUTE_FLOOR requests at least): a
    baseline whose last minutes already hold the onset keeps its usual level, where its p95 would
    not. None with fewer than 3 such minutes."""
    counts = series.col("requests")
    values = [v for v, n in zip(series.means(column), counts) if v is not None and n >= MINUTE_FLOOR]
    return median(values) if len(values) >= 3 else None


def _baseline_rise(case: Case, b: ScopeData, tr: Timer | None, seen: str, numbers: dict[str, float]) -> Hypothesis | None:
    """Under the absolute thresholds, a backend clearly slower than its own baseline: its typical
    minute (and its server time, when kept) at least `baseline_p95_factor` × the baseline's, the
    p95 at least `baseline_min_added_ms` above the p95 that factor implies for the usual level, and
    each span over `baseline_min_requests` requests at least."""
    th = case.limits.latency
    now, before = b.now, b.before
    enough = th.baseline_min_requests
    if now.requests < enough or before.requests < enough or not now.ta.p95:
        return None

    def factor(column: str) -> float | None:
        a, base = _typical(b.now_minutes, column), _typical(b.before_minutes, column)
        return a / base if a and base else None

    ta_factor = factor("ta_mean_ms")
    use_tr = tr is not None and tr.p95 is not None
    tr_factor = factor("tr_mean_ms") if use_tr else None
    if ta_factor is None or ta_factor < th.baseline_p95_factor or (use_tr and (tr_factor or 0) < th.baseline_p95_factor):
        return None
    usual_p95 = now.ta.p95 / ta_factor
    if now.ta.p95 - usual_p95 < th.baseline_min_added_ms:
        return None
    minutes = max(case.data.window.minutes, 1.0)
    base_minutes = max(case.data.baseline.minutes, 1.0)
    load = (now.requests / minutes) / (before.requests / base_minutes)
    busier = (f" while it takes {num(round(load, 1))}× its usual traffic: its servers slow down under the extra load"
              if load >= 1.5 else "")
    x = num(round(ta_factor, 1))
    why = f"server time Tr p95 {ms(tr.p95)}, {num(round(tr_factor or 0, 1))}× its usual" if use_tr else "no server time kept"  # type: ignore[union-attr]
    return Hypothesis(
        "baseline_rise", "latency", "warning", b, headline=f"{x}× slower than usual",
        sentence=(f"{b.name} is {x}× slower than its own baseline ({seen}; its typical minute {x}× the baseline's, "
                  f"whose level means a p95 near {ms(usual_p95)}){busier} — under the absolute thresholds, but a "
                  f"clear rise for this backend ({why})."),
        recommendation=(f"Find what slows {b.name}'s servers" + (
            " under the extra traffic (a cold cache, a saturated dependency or pool): add capacity or shed the "
            "extra load." if busier else ": what changed on it just before (a deploy, its config) or in the "
            "dependency its servers call.")),
        support=(f"typical minute {x}× its baseline's",), numbers={
            **numbers, "baseline_factor": ta_factor, "usual_p95_ms": usual_p95, "traffic_factor": load},
        timing=_timing(case, b, use_tr))


def _proxy_time(b: ScopeData, seen: str, numbers: dict[str, float], held: float, servers: str) -> Hypothesis:
    return Hypothesis(
        "proxy_time", "latency", "ok", b, headline="HAProxy's tarpit, not server time",
        sentence=(f"{b.name}'s Ta tail ({seen}) is HAProxy's own hold: {pct(held)} of the requests were tarpitted "
                  f"(PT--, held in Tw, then answered by the proxy); {servers}. Not a server-latency problem."),
        recommendation="", support=(f"tarpitted {pct(held)}",), numbers={**numbers, "tarpitted_pct": held},
        against=("requests HAProxy held itself never make a server-latency verdict",))


def _not_server_time(case: Case, b: ScopeData, seen: str, numbers: dict[str, float]) -> list[Hypothesis]:
    """When most requests never reached a server (`Tr` -1: the frontend answered them, the client
    left before its request was complete, HAProxy held or denied them), their `Ta` is no server's
    time: say what it is, or leave it to the modes that judge those requests (errors, queueing)."""
    now = b.now
    reached = now.tr.count if now.tr is not None else None
    proxy_only = case.data.proxy_only(b)
    if not proxy_only and (reached is None or reached * 2 >= now.requests):
        return []
    client, held = now.share(now.client_ended), now.share(now.ended("P", "T"))
    what = "no server is behind it (HAProxy's frontend answers these requests itself)" if proxy_only else (
        f"only {num(reached)} of {num(now.requests)} requests reached a server")
    if held >= 25:
        return [_proxy_time(b, seen, numbers, held, what)]
    if client >= 25:
        states = ", ".join(f"{k} ×{num(v)}" for k, v in sorted(now.states("Cc").items(), key=lambda kv: -kv[1])[:3])
        return [Hypothesis(
            "client_time", "latency", "ok", b, headline="client time, not server time",
            sentence=(f"{b.name}'s Ta ({seen}) is client time: {what}, and {pct(client)} were ended by the client "
                      f"({states}) — HAProxy waited for them until its client or http-request timeout. Not a "
                      f"server-latency problem."),
            recommendation="", support=(f"client-ended {pct(client)}",), numbers={**numbers, "client_ended_pct": client},
            against=("requests ended on the client side never make a server-latency verdict",))]
    if proxy_only or now.share(now.server_queued) < case.limits.saturation.queue_warning_pct:
        return [Hypothesis(  # the errors modes tell why they never reached one (no server, refused, denied)
            "not_server_time", "latency", "ok", b, headline="no server time to judge",
            sentence=f"{b.name}'s Ta ({seen}) is not server time: {what}.", recommendation="",
            numbers=numbers, against=("requests that reached no server never make a server-latency verdict",))]
    return []


def _servers_in_time(case: Case, b: ScopeData, tr: Timer) -> bool:
    """The servers answer in time: server time `Tr` within the thresholds, or (for a backend whose
    work is slow by nature) no slower than in its own healthy-enough baseline."""
    th = case.limits.latency
    if level(*_p(tr), th) == "ok":
        return True
    before = b.before.tr
    if before is None or before.p95 is None or tr.p95 is None or b.before.requests < case.min_requests_of(b):
        return False
    return tr.p95 < th.rise_factor * before.p95 and (tr.p99 or 0) < th.rise_factor * (before.p99 or before.p95)


def backend_latency(case: Case, b: ScopeData) -> list[Hypothesis]:
    return [_settled(h) for h in _backend_latency(case, b)]


def _failed_time(b: ScopeData, seen: str, numbers: dict[str, float], failed: float, tr: Timer) -> Hypothesis:
    return Hypothesis(
        "failed_time", "latency", "ok", b, headline="the time of failed requests, not slow answers",
        sentence=(f"{b.name}'s Ta tail ({seen}) is the time of its failed requests: {pct(failed)} failed before "
                  f"any answer (after HAProxy's connection retries or at `timeout server`; see the errors finding), "
                  f"while the requests its servers answered are in time (Tr p95 {ms(tr.p95)}, p99 {ms(tr.p99)})."),
        recommendation="", support=(f"failed before an answer {pct(failed)}", f"Tr p95 {ms(tr.p95)}"),
        numbers={**numbers, "failed_pct": failed},
        against=("latency on failed requests is the errors finding's, not a latency verdict",))


def _backend_latency(case: Case, b: ScopeData) -> list[Hypothesis]:
    th, sat = case.limits.latency, case.limits.saturation
    now = b.now
    sev = level(now.ta.p95, now.ta.p99, th)
    outlier = slow_server(case, b)
    tr = now.tr if now.tr and now.tr.count >= case.min_requests_of(b) else None
    numbers = {k: v for k, v in {"p95_ms": now.ta.p95, "p99_ms": now.ta.p99,
                                 "tr_p95_ms": tr.p95 if tr else None, "requests": now.requests}.items() if v is not None}
    seen = f"p95 {ms(now.ta.p95)}, p99 {ms(now.ta.p99)} over {num(now.requests)} requests"
    if now.requests < FEW_FOR_A_TAIL:
        seen += " (few requests: the p99 is one or two of them)"
    if sev == "ok" and outlier is None:
        rise = _baseline_rise(case, b, tr, seen, numbers)
        return [rise] if rise is not None else []
    if not_server_time := _not_server_time(case, b, seen, numbers):
        return not_server_time
    if outlier is not None and (tr is None or level(*_p(tr), th) != "ok" or sev == "ok"):
        server, p95, peers = outlier
        name = server_name(server)
        timing = _timing(case, server, tr is not None)
        return [Hypothesis(
            "server_slow", "latency", sev if sev != "ok" else "warning", b, server=name,
            headline=f"server {name} is slow",
            sentence=(f"One server is slow: {b.name}/{name} answers p95 {ms(p95)}, its peers at most {ms(peers)}; "
                      f"the backend sees {seen}."),
            recommendation=(f"Take {b.name}/{name} out of the pool (set it to drain or maint on HAProxy's runtime "
                            f"API) and look at that host: its peers answer normally."),
            support=(f"{name} p95 {ms(p95)} against peers at most {ms(peers)}",),
            against=("the other servers are fast: not the backend's code or a shared dependency",),
            numbers={**numbers, "server_p95_ms": p95, "peers_max_p95_ms": peers}, timing=timing)]
    if tr is not None:
        graded, failed = _answered_level(now, tr, case)
        if RANK[graded] < RANK[sev]:  # part of the grade is the failed requests' own time
            if graded == "ok" and now.share(now.ended("s", "H")) >= 1.0:
                graded = "warning"  # servers that reached `timeout server` are slow, not only failed
            if graded == "ok":
                return [_failed_time(b, seen, numbers, failed, tr)]
            sev = graded  # type: ignore[assignment]
    client = now.share(now.client_ended)
    queued = now.share(now.server_queued)
    held = now.share(now.ended("P", "T"))
    # retried AND answered: a request that failed after its retries is the errors finding's
    retried = now.share(max(0, max(now.retried, now.redispatches) - now.ended("S", "C")))
    if tr is not None and _servers_in_time(case, b, tr):
        # The servers answer in time: the rest of Ta is waiting, connecting or the client.
        if queued >= sat.queue_warning_pct or (not held and (now.tw_mean or 0) >= th.p95_warning_ms / 4):
            return [Hypothesis(
                "overloaded_queueing", "latency", sev, b, headline="requests wait in the queue",
                sentence=(f"{b.name} is slow for its users ({seen}) while its servers answer in time (Tr p95 "
                          f"{ms(tr.p95)}): {pct(queued)} of the requests waited in a queue"
                          + (f", {ms(now.tw_mean)} on average." if now.tw_mean is not None else ".")),
                recommendation=f"Add capacity to {b.name} (servers or maxconn): requests queue in front of healthy servers.",
                support=(f"queued {pct(queued)}", f"Tr p95 {ms(tr.p95)}"), numbers={**numbers, "queued_pct": queued},
                against=("server time Tr is normal: not a slow server or a regression",),
                timing=_timing(case, b, False))]
        if retried >= 1.0 or (now.tc_mean or 0) >= 100:
            return [Hypothesis(
                "retry_wait", "latency", sev, b, headline="slow from connection retries",
                sentence=(f"{b.name} is slow for its users ({seen}) although its servers answer in time (Tr p95 "
                          f"{ms(tr.p95)}): {pct(retried)} of the requests needed connection retries"
                          + (f" (connect time {ms(now.tc_mean)} on average)" if now.tc_mean is not None else "")
                          + ": the time goes into HAProxy's retry waits, not into the servers."),
                recommendation=f"Find the server of {b.name} that refuses or drops connections (see the errors finding).",
                support=(f"retried {pct(retried)}", f"Tr p95 {ms(tr.p95)}"), numbers={**numbers, "retried_pct": retried},
                against=("server time Tr is normal: not a regression of the servers' code",),
                timing=_timing(case, b, False))]
        if held >= th.client_tail_pct:
            return [_proxy_time(b, seen, numbers, held, f"the servers answer in time (Tr p95 {ms(tr.p95)})")]
        if client >= th.client_tail_pct:
            return [Hypothesis(
                "client_time", "latency", "ok", b, headline="client time, not server time",
                sentence=(f"{b.name}'s Ta tail ({seen}) is client time: the servers answer in time (Tr p95 "
                          f"{ms(tr.p95)}, p99 {ms(tr.p99)}) and {pct(client)} of the requests were ended by the "
                          f"client, which keeps Ta open until HAProxy's client timeout. Not a server-latency problem."),
                recommendation="", support=(f"Tr p95 {ms(tr.p95)}", f"client-ended {pct(client)}"),
                numbers={**numbers, "client_ended_pct": client},
                against=("requests ended on the client side never make a server-latency verdict",))]
    timeouts = now.ended("s", "H")
    if now.share(timeouts) >= 1.0:
        return [Hypothesis(
            "server_timeout", "latency", sev, b, headline="servers hit timeout server",
            sentence=(f"{b.name}'s servers do not answer in time: {num(timeouts)} requests reached HAProxy's "
                      f"`timeout server` (sH--, answered 504); {seen}."),
            recommendation=(f"Find what {b.name}'s servers wait on (a dependency, locks, a full pool) — they hit "
                            f"`timeout server`; raise that timeout only if the work is legitimately that long."),
            support=(f"{num(timeouts)} sH-- terminations",), numbers={**numbers, "server_timeouts": timeouts},
            timing=_timing(case, b, tr is not None))]
    use_tr = tr is not None
    basis = tr if use_tr else now.ta
    before = b.before.tr if use_tr and b.before.tr else b.before.ta
    base_ok = b.before.requests >= case.min_requests_of(b)
    timing = _timing(case, b, use_tr)
    why = f"server time Tr p95 {ms(basis.p95)}" if use_tr else f"p95 {ms(basis.p95)}"
    if base_ok and level(before.p95, before.p99, th) == "ok" and basis.p95 is not None and before.p95 \
            and basis.p95 >= th.rise_factor * before.p95:
        at = timing.at()
        return [Hypothesis(
            "regression", "latency", sev, b, headline="latency regression",
            sentence=(f"{b.name} slowed down{at}: {seen}, against p95 {ms(before.p95)}, p99 {ms(before.p99)} in the "
                      f"baseline — the {why} rose with it, in every server, without queueing."),
            recommendation=(f"{b.name} regressed{at}: check what changed on it just before (a deploy or release, a "
                            f"config or feature-flag change) and roll back that change; if nothing changed, look at "
                            f"the dependency its servers call."),
            support=(f"{why} against p95 {ms(before.p95)} before", "clear onset against a healthy baseline"),
            against=("all servers are slow: not one bad server", "no queueing: not overload"),
            numbers={**numbers, "baseline_p95_ms": before.p95 or 0.0}, timing=timing)]
    slow_before = base_ok and level(before.p95, before.p99, th) != "ok"
    rose = slow_before and basis.p95 is not None and before.p95 and basis.p95 >= th.rise_factor * before.p95
    history = ""
    if rose:
        history = (f" It was already slow in the baseline (p95 {ms(before.p95)}, p99 {ms(before.p99)}) and is "
                   f"{num(round(basis.p95 / before.p95, 1))}× slower now.")  # type: ignore[operator]
    elif slow_before:
        history = (f" It was already slow in the baseline (p95 {ms(before.p95)}, p99 {ms(before.p99)}): a standing "
                   f"slowness, not a new one.")
    return [Hypothesis(
        "slow_upstream", "latency", sev, b, headline="slow servers",
        sentence=f"{b.name} is slow: {seen}; the {why}." + history,
        recommendation=(f"Look at what {b.name}'s servers wait on (a database or downstream dependency, CPU, GC): "
                        f"every server is slow, so the cause is shared."),
        support=(why,), against=("all servers are slow: not one bad server",),
        numbers=numbers, timing=timing)]


def latency_hypotheses(case: Case) -> list[Hypothesis]:
    out: list[Hypothesis] = []
    for b in case.data.of_kind("backend"):
        if case.enough(b):
            out.extend(backend_latency(case, b))
    site = case.data.site
    if site is not None and not out and case.enough(site):
        sev = level(site.now.ta.p95, site.now.ta.p99, case.limits.latency)
        if sev != "ok":
            out.append(Hypothesis(
                "site_latency", "latency", sev, site, headline="high latency",
                sentence=f"Site-wide p95 {ms(site.now.ta.p95)}, p99 {ms(site.now.ta.p99)} over {num(site.now.requests)} requests.",
                recommendation="Find the slow path: no single backend stands out with enough requests.",
                numbers={"p95_ms": site.now.ta.p95 or 0.0, "p99_ms": site.now.ta.p99 or 0.0}))
    return out

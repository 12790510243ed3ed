"""Traffic modes, per scope (site, each frontend, each backend) against that scope's own arrival
pattern: a drop or a surge is a count that the baseline's rate makes very unlikely (Poisson)
AND that lies outside every same-length span of the baseline (so a backend fed in bursts is not
"gone" between bursts, and an evening decline is not an outage); traffic moving from one backend
to another; clients going away (`cD`, `CD`, `cR`, `CR`, `cL`)."""

from __future__ import annotations

from dataclasses import dataclass

from agent_service.diagnosis.case import Case
from agent_service.diagnosis.data import ScopeData
from agent_service.diagnosis.hypothesis import RANK, Hypothesis, Level
from agent_service.diagnosis.stats import poisson_cdf, poisson_sf, proportion_above, sliding_sums, trimmed_mean
from agent_service.diagnosis.fmt import num, pct

TAIL_MINUTES = 3
RECENT_MINUTES = 15
_CLIENT_STATES = {
    "cD": "the client stopped reading mid-response and HAProxy waited its `timeout client`",
    "CD": "the client closed the connection during the response",
    "cR": "the client timed out before sending a full request (`timeout http-request`)",
    "CR": "the client aborted before sending a full request",
    "cL": "the client timed out while the last data was sent",
    "CH": "the client aborted while waiting for the response headers",
    "cH": "the client timed out while waiting for the response headers",
    "CC": "the client aborted while HAProxy connected to the server",
    "CQ": "the client aborted while queued",
}


@dataclass(frozen=True)
class Change:
    level: Level
    direction: str  # "drop" | "surge"
    observed: int
    expected: float
    minutes: int
    pct: float  # drop depth, or growth


@dataclass(frozen=True)
class Span:
    """The latest `span` minutes of a scope against what its baseline expects of them."""

    span: int
    minutes: float  # `span` with the last minute counted by how much of it had elapsed
    observed: int
    expected: float
    lo: float | None  # the quietest and busiest `span` minutes of the baseline
    hi: float | None

    @property
    def scaled(self) -> float:
        return self.observed * self.span / self.minutes

    @property
    def per_minute_delta(self) -> float:
        return (self.observed - self.expected) / self.minutes


def spans(case: Case, s: ScopeData) -> list[Span]:
    """The whole window and its latest minutes. The expected rate is a trimmed mean of the recent
    baseline (an onset in its last minutes does not raise it), the pattern its same-length spans."""
    th = case.limits.traffic
    now = s.now_minutes.col("requests")
    began = case.data.logs_began()  # the minutes before the logs began are not silence
    before = [] if began is None else list(s.before_minutes.col("requests"))[began:]
    if not now or not before or sum(before) < th.min_requests:
        return []
    out = []
    for span in sorted({len(now), min(TAIL_MINUTES, len(now))}):
        rate = trimmed_mean(before[-max(RECENT_MINUTES, 2 * span):])
        minutes = span - 1 + case.last_minute_fraction
        sums = sliding_sums(before, span)
        lo, hi = (min(sums), max(sums)) if len(sums) >= 2 else (None, None)
        out.append(Span(span, minutes, int(sum(now[-span:])), rate * minutes, lo, hi))
    return out


def change(case: Case, s: ScopeData, measured: list[Span] | None = None) -> Change | None:
    """A drop or surge: very unlikely under the baseline's rate (Poisson) and beyond the baseline's
    own quietest (busiest) span by more than chance."""
    th = case.limits.traffic
    worst: Change | None = None
    for sp in spans(case, s) if measured is None else measured:
        observed, expected, scaled = sp.observed, sp.expected, sp.scaled
        if expected < th.min_requests or expected / sp.minutes < th.min_typical_per_minute:
            continue
        lo, hi, span = sp.lo, sp.hi, sp.span
        depth = 100 * (1 - observed / expected)
        found: Change | None = None
        if depth > 0 and poisson_cdf(observed, expected) < th.significance and (
                lo is None or poisson_cdf(scaled, lo) < th.significance):
            lvl: Level = ("critical" if depth >= th.traffic_drop_critical_pct
                          else "warning" if depth >= th.traffic_drop_warning_pct else "ok")
            if lvl != "ok":
                found = Change(lvl, "drop", observed, expected, span, depth)
        growth = 100 * (observed / expected - 1)
        if growth >= th.traffic_surge_warning_pct and poisson_sf(observed, expected) < th.significance \
                and (hi is None or poisson_sf(scaled, hi) < th.significance):
            found = Change("warning", "surge", observed, expected, span, growth)
        if found and (worst is None or RANK[found.level] > RANK[worst.level]):
            worst = found
    return worst


def _drop(case: Case, s: ScopeData, c: Change, children: list[str]) -> Hypothesis:
    gone = c.observed == 0
    also = f" Its backends {', '.join(children)} lost theirs with it." if children else ""
    what = "no requests at all" if gone else f"{num(c.observed)} requests"
    rate = c.expected / (c.minutes - 1 + case.last_minute_fraction)
    return Hypothesis(
        "traffic_drop", "traffic", c.level, s,
        headline="traffic stopped" if gone else f"traffic down {pct(c.pct)}",
        sentence=(f"{s.label.capitalize()} {'stopped receiving traffic' if gone else 'lost traffic'}: {what} in the "
                  f"last {num(c.minutes)} minutes where its baseline rate ({num(round(rate, 1))} a minute) expects "
                  f"about {num(round(c.expected))} — a {pct(c.pct)} drop, below any {num(c.minutes)}-minute span "
                  f"of the baseline.{also}"),
        recommendation=(f"Find why requests no longer reach {s.name or 'the site'}: what routes to it (DNS, the load "
                        f"balancer or CDN in front, the frontend's bind and ACLs), and whether clients fail before "
                        f"reaching HAProxy."),
        numbers={"requests": c.observed, "expected_requests": round(c.expected), "drop_pct": round(c.pct, 1),
                 "baseline_per_minute": round(rate, 1), "span_minutes": c.minutes},
        support=(f"{num(c.observed)} against about {num(round(c.expected))} expected",),
        against=("outside the baseline's own pattern: not a quiet spell it already had",))


def _surge(case: Case, s: ScopeData, c: Change) -> Hypothesis:
    times = c.observed / c.expected
    return Hypothesis(
        "traffic_surge", "traffic", "warning", s, headline=f"traffic surge, {num(round(times, 1))}× its usual",
        sentence=(f"A traffic surge: {s.label} takes {num(round(times, 1))}× its usual traffic: {num(c.observed)} "
                  f"requests in the last {num(c.minutes)} minutes where its baseline expects about "
                  f"{num(round(c.expected))}, above any span of the baseline."),
        recommendation=(f"Find where the extra traffic on {s.name or 'the site'} comes from (a campaign, a bot, a "
                        f"client retry loop) and make sure its capacity holds; rate limit it if it is abuse."),
        numbers={"requests": c.observed, "expected_requests": round(c.expected), "surge_factor": round(times, 1),
                 "span_minutes": c.minutes},
        support=(f"{num(c.observed)} against about {num(round(c.expected))} expected",))


def _clients(case: Case, b: ScopeData) -> list[Hypothesis]:
    th = case.limits.traffic
    now, before = b.now, b.before
    ended = now.client_ended
    share = now.share(ended)
    if ended < case.limits.errors.min_errors or share < th.client_abort_warning_pct:
        return []
    if before.requests and not proportion_above(ended, now.requests, before.client_ended, before.requests):
        return []
    states = now.states("Cc")
    top = max(states, key=lambda k: states[k]) if states else ""
    meaning = _CLIENT_STATES.get(top[:2], "clients went away before the response was complete")
    listed = ", ".join(f"{k} ×{num(v)}" for k, v in sorted(states.items(), key=lambda kv: -kv[1])[:3])
    # Told apart, never a fault of the service by itself: a note, not a severity.
    return [Hypothesis(
        "clients_going_away", "traffic", "ok", b, headline="clients going away",
        sentence=(f"Clients go away on {b.name}: {pct(share)} of its {num(now.requests)} requests were ended by the "
                  f"client ({listed}) — {meaning}."),
        recommendation=(f"Look at the clients of {b.name} (a mobile network, an app release, a proxy in front) rather "
                        f"than its servers; a shorter `timeout client` frees the connections they leave open."),
        numbers={"client_ended_pct": share, "client_ended": ended, "requests": now.requests},
        support=(listed,), against=("the servers answered: a client-side problem",))]


def _carried_by_frontends(case: Case, site: Change, drops: dict[tuple[str, str], tuple[ScopeData, Change]]) -> bool:
    """A site-wide drop that some frontends carry while others hold: the frontends that lost it
    are the finding (the site is the sum of them), not the site."""
    frontends = case.data.of_kind("frontend")
    dropped = [c for (kind, _), (_, c) in drops.items() if kind == "frontend"]
    if not dropped or len(dropped) >= len(frontends):
        return False
    lost = sum((c.expected - c.observed) / c.minutes for c in dropped)
    return lost >= 0.7 * (site.expected - site.observed) / site.minutes


def traffic_hypotheses(case: Case) -> list[Hypothesis]:
    changes: dict[tuple[str, str], tuple[ScopeData, Change]] = {}
    scopes = [s for s in case.data.scopes if s.kind in ("site", "frontend", "backend")]
    measured = {(s.kind, s.name): spans(case, s) for s in scopes}  # each scope's spans, once
    for s in scopes:
        c = change(case, s, measured[(s.kind, s.name)])
        if c is not None:
            changes[(s.kind, s.name)] = (s, c)
    out: list[Hypothesis] = []
    site = changes.get(("site", ""))
    drops = {k: v for k, v in changes.items() if v[1].direction == "drop"}
    surges = {k: v for k, v in changes.items() if v[1].direction == "surge"}
    folded: set[tuple[str, str]] = set()
    if site and site[1].direction == "drop":
        if _carried_by_frontends(case, site[1], drops):
            folded.add(("site", ""))  # told on the frontends that lost it, not on the site
        else:
            for key, (s, c) in drops.items():
                if key != ("site", "") and c.pct < site[1].pct + 20:
                    folded.add(key)
    for key, (s, c) in drops.items():
        if s.kind == "frontend" and key not in folded:
            for route in s.routes:
                child = drops.get(("backend", route))
                if child and child[1].pct < c.pct + 20:
                    folded.add(("backend", route))
    # a surge of the site or a frontend that its backends' own surges explain is told on them
    for key, (s, c) in surges.items():
        if s.kind == "backend":
            continue
        children = [v for k, v in surges.items() if k[0] == "backend" and (s.kind == "site" or k[1] in s.routes)]
        gained = sum((d.observed - d.expected) / d.minutes for _, d in children)
        if children and gained >= 0.5 * (c.observed - c.expected) / c.minutes:
            folded.add(key)
    # traffic moving: a backend that dropped while another surged takes its place
    for key, (s, c) in list(drops.items()):
        if s.kind != "backend" or key in folded:
            continue
        lost = c.expected - c.observed
        for t in case.data.of_kind("backend"):
            d = next((sp for sp in measured.get(("backend", t.name), []) if sp.span == c.minutes), None)
            if t is s or d is None or ("backend", t.name) in drops:
                continue
            gained = d.observed - d.expected
            significant = poisson_sf(d.observed, max(d.expected, 1e-9)) < case.limits.traffic.significance
            if significant and 0.5 * lost <= gained <= 2 * lost:
                folded |= {key, ("backend", t.name)}
                out.append(Hypothesis(
                    "traffic_shift", "traffic", "warning", s, headline=f"traffic moved to {t.name}",
                    sentence=(f"Traffic moved from {s.name} to {t.name}: {s.name} got {num(c.observed)} requests where "
                              f"about {num(round(c.expected))} were expected, while {t.name} got {num(d.observed)} "
                              f"instead of about {num(round(d.expected))}."),
                    recommendation=(f"Check the routing that sends requests to {s.name} and {t.name} (the frontend's "
                                    f"`use_backend` rules, a map or ACL change, weights): requests moved between them."),
                    numbers={"requests": c.observed, "expected_requests": round(c.expected),
                             "other_requests": d.observed, "other_expected_requests": round(d.expected)}))
                break
    for key, (s, c) in changes.items():
        if key in folded:
            continue
        if c.direction == "drop":
            children = [r for r in s.routes if ("backend", r) in folded] if s.kind == "frontend" else []
            if s.kind == "site":
                children = [n for (k, n) in folded if k == "backend"]
            out.append(_drop(case, s, c, sorted(children)))
        else:
            out.append(_surge(case, s, c))
    for b in case.data.of_kind("backend"):
        if case.enough(b):
            out += _clients(case, b)
    return out

"""A batch of LogEntry → per-minute deltas per scope (site, frontend, backend, backend/server).

Pure and in process: every line lands in one group (minute, frontend, backend, server); the
groups are folded into scopes once per batch, so the cost per line is a few dict/list updates.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ingestion_service.haproxy.models import LogEntry
from ingestion_service.sketch import key_for

# Positions in Group.n (sums) and Group.mx (maxima).
(N_REQ, N_4XX, N_5XX, N_ABORT, N_BYTES, N_QUEUED, N_RETRIES, N_ACT, N_SRVCONN, N_SRVQ, N_BEQ, N_TA,
 N_TCP, N_TCP_TC, N_TR, N_TC, N_TW, N_NO_TA, N_NO_TR, N_NO_TC, N_NO_TW, N_RETRIED, N_REDISPATCHED,
 N_CLIENT) = range(24)
# ... "tn": TCP sessions (`option tcplog`, kept out of the request counts), "tk": their Tc sum;
# "tr"/"tc"/"tw": sums of Tr, Tc, Tw over the requests that have them; "ua"/"ur"/"uc"/"uw": requests
# whose Ta/Tr/Tc/Tw is -1 (so a timer's count is n minus those: usually no field at all); "rq":
# requests retried at least once, "rd": redispatched (`+` before retries); "ca": client aborts
# (termination state starting with `C` or `c`).
SUM_FIELDS = ("n", "e4", "e5", "ab", "by", "qd", "rt", "sa", "sc", "sq", "sb", "ta", "tn", "tk",
              "tr", "tc", "tw", "ua", "ur", "uc", "uw", "rq", "rd", "ca")
# max Ta, actconn, srv_conn, srv_queue, backend_queue, retries, Tr, Tc
MAX_FIELDS = ("ta", "ac", "sc", "sq", "bq", "rt", "tr", "tc")
(M_TA, M_ACT, M_SRVCONN, M_SRVQ, M_BEQ, M_RETRIES, M_TR, M_TC) = range(8)

# Buckets of oncall_request_duration_seconds, in ms (docs/metrics.md: 0.005 … 30 s).
DURATION_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
_TA_KEYS: dict[int, int] = {}  # Ta (integer ms) → sketch key, a pure cache
SITE = "s"
FRONTEND = "f"
BACKEND = "b"
SERVER = "v"
PAIR = "p"  # frontend×backend, name "<frontend>|<backend>": counters only (no latency buckets)
# Scopes keeping a Tr (server response time) sketch beside Ta's: the memory budget holds backends
# only (docs/benchmarks.md). Every request lands in exactly one backend scope (`__other__` too), so
# the site's Tr is the merge of all backends'; the others keep Tr's sum, count and maximum only.
TR_KINDS = frozenset((BACKEND,))
# Left out of the frontend×backend scope (counts only: its readers never ask for timers).
_TIMER_SUMS = frozenset(SUM_FIELDS.index(f) for f in ("tr", "tc", "tw", "ua", "ur", "uc", "uw"))
_PAIR_SUMS = tuple((i, f) for i, f in enumerate(SUM_FIELDS) if i not in _TIMER_SUMS)
_PAIR_MAXIMA = tuple((i, f) for i, f in enumerate(MAX_FIELDS) if f not in ("tr", "tc"))
_ALL_SUMS = tuple(enumerate(SUM_FIELDS))
_ALL_MAXIMA = tuple(enumerate(MAX_FIELDS))


def pair_name(frontend: str, backend: str) -> str:
    return f"{frontend}|{backend}"  # `|` is not allowed in HAProxy proxy names


class Group:
    __slots__ = ("n", "mx", "status", "term", "buckets", "tr_buckets", "prom")

    def __init__(self) -> None:
        self.n = [0] * len(SUM_FIELDS)
        self.mx = [-1] * len(MAX_FIELDS)
        self.status: dict[int, int] = {}
        self.term: dict[str, int] = {}
        self.buckets: dict[int, int] = {}  # Ta sketch key → count
        self.tr_buckets: dict[int, int] = {}  # Tr sketch key → count
        self.prom = [0] * (len(DURATION_BUCKETS_MS) + 1)  # exact Ta counts per Prometheus bucket


def prom_index(ta_ms: float) -> int:
    """Index of the Prometheus bucket holding `ta_ms` (upper bounds are inclusive, last = +Inf)."""
    return bisect.bisect_left(DURATION_BUCKETS_MS, ta_ms)


@dataclass
class ScopeDelta:
    """What one batch adds to one scope in one minute."""

    sums: dict[str, int] = field(default_factory=dict)  # SUM_FIELDS, "s:<code>", "t:<state>"
    maxima: dict[str, int] = field(default_factory=dict)  # MAX_FIELDS
    buckets: dict[int, int] = field(default_factory=dict)  # sketch key → count
    tr_buckets: dict[int, int] = field(default_factory=dict)  # Tr: TR_KINDS only


ScopeKey = tuple[str, str, int]  # (kind, name, minute epoch)


@dataclass
class PairDelta:
    """Per frontend/backend pair, for the Prometheus series (labels frontend, backend)."""

    classes: dict[str, int] = field(default_factory=dict)
    servers: dict[tuple[str, str], int] = field(default_factory=dict)  # (server, class) → requests
    # (server, first two characters of an abnormal termination state) → requests
    terminations: dict[tuple[str, str], int] = field(default_factory=dict)
    prom: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS_MS) + 1))
    ta_sum_ms: int = 0


@dataclass
class BatchDeltas:
    scopes: dict[ScopeKey, ScopeDelta]
    pairs: dict[tuple[str, str], PairDelta]
    lines: int
    newest: float | None
    late_lines: int = 0  # in minutes older than the late cut-off: stored, kept out of `pairs`
    future_lines: int = 0  # in minutes starting after `future_after` (a clock or zone wrong)


class Aggregator:
    """Accumulates entries into groups; `fold()` turns them into scope deltas."""

    def __init__(self) -> None:
        self.groups: dict[tuple[int, str, str, str], Group] = {}
        self.lines = 0
        self.newest: float | None = None

    def add(self, e: LogEntry) -> None:
        ts = e.timestamp
        gk = (int(ts // 60) * 60, e.frontend, e.backend, e.server)
        g = self.groups.get(gk)
        if g is None:
            g = self.groups[gk] = Group()
        self.lines += 1
        if self.newest is None or ts > self.newest:
            self.newest = ts
        n = g.n
        mx = g.mx
        if e.tcp:
            _add_tcp(g, e)
            return
        n[N_REQ] += 1
        status = e.status_code
        if 400 <= status < 500:
            n[N_4XX] += 1
        elif 500 <= status < 600:
            n[N_5XX] += 1
        g.status[status] = g.status.get(status, 0) + 1
        term = e.termination_state
        g.term[term] = g.term.get(term, 0) + 1
        if term[0] == "C":
            n[N_ABORT] += 1
            n[N_CLIENT] += 1
        elif term[0] == "c":
            n[N_CLIENT] += 1
        if e.bytes_read > 0:
            n[N_BYTES] += e.bytes_read
        if e.time_queue_ms > 0:
            n[N_QUEUED] += 1
        if e.retries > 0:
            n[N_RETRIES] += e.retries
            n[N_RETRIED] += 1
        if e.retries > mx[5]:
            mx[5] = e.retries
        if e.redispatched:
            n[N_REDISPATCHED] += 1
        _add_timers(g, e.time_response_ms, e.time_connect_ms, e.time_queue_ms)
        v = e.actconn
        n[N_ACT] += v
        if v > mx[1]:
            mx[1] = v
        v = e.srv_conn
        n[N_SRVCONN] += v
        if v > mx[2]:
            mx[2] = v
        v = e.srv_queue
        n[N_SRVQ] += v
        if v > mx[3]:
            mx[3] = v
        v = e.backend_queue
        n[N_BEQ] += v
        if v > mx[4]:
            mx[4] = v
        ta = e.response_time_ms
        if ta < 0:
            n[N_NO_TA] += 1
        else:
            n[N_TA] += ta
            if ta > mx[0]:
                mx[0] = ta
            k = _TA_KEYS.get(ta) if type(ta) is int else None
            if k is None:
                k = key_for(ta)
                if type(ta) is int and len(_TA_KEYS) < 65536:
                    _TA_KEYS[ta] = k
            b = g.buckets
            b[k] = b.get(k, 0) + 1
            g.prom[prom_index(ta)] += 1

    def add_all(self, entries: Iterable[LogEntry]) -> None:
        for e in entries:
            self.add(e)

    def names(self) -> tuple[set[str], set[str], set[str]]:
        """Distinct frontends, backends and backend/server names in the batch."""
        fes, bes, srvs = set(), set(), set()
        for _, fe, be, srv in self.groups:
            fes.add(fe)
            bes.add(be)
            srvs.add(f"{be}/{srv}")
        return fes, bes, srvs

    def fold(self, rename: Callable[[str, str], str] | None = None, *,
             late_before: float | None = None, future_after: float | None = None) -> BatchDeltas:
        """Scope deltas; `rename(kind, name)` maps names over the cap to `__other__`. Minutes that
        end before `late_before` are stored but left out of `pairs` (the exported series)."""
        name = rename or (lambda _kind, n: n)
        scopes: dict[ScopeKey, ScopeDelta] = {}
        pairs: dict[tuple[str, str], PairDelta] = {}
        late = future = 0
        for (minute, fe, be, srv), g in self.groups.items():
            fe_n, be_n = name(FRONTEND, fe), name(BACKEND, be)
            sv_n = name(SERVER, f"{be}/{srv}")
            for sk in ((SITE, "", minute), (FRONTEND, fe_n, minute), (BACKEND, be_n, minute),
                       (SERVER, sv_n, minute)):
                d = scopes.get(sk)
                if d is None:
                    d = scopes[sk] = ScopeDelta()
                _merge_group(d, g, tr=sk[0] in TR_KINDS)
            pk = (PAIR, pair_name(fe_n, be_n), minute)
            d = scopes.get(pk)
            if d is None:
                d = scopes[pk] = ScopeDelta()
            _merge_group(d, g, buckets=False)
            if future_after is not None and minute > future_after:
                future += g.n[N_REQ] + g.n[N_TCP]
            if late_before is not None and minute + 60 <= late_before:
                late += g.n[N_REQ] + g.n[N_TCP]
                continue
            p = pairs.get((fe_n, be_n))
            if p is None:
                p = pairs[(fe_n, be_n)] = PairDelta()
            server = sv_n.partition("/")[2] or sv_n
            for code, c in g.status.items():
                cls = f"{code // 100}xx" if 100 <= code < 600 else "other"
                p.classes[cls] = p.classes.get(cls, 0) + c
                p.servers[(server, cls)] = p.servers.get((server, cls), 0) + c
            for term, c in g.term.items():
                state = term[:2]
                if state != "--" and len(state) == 2:
                    p.terminations[(server, state)] = p.terminations.get((server, state), 0) + c
            p.prom = [a + b for a, b in zip(p.prom, g.prom)]
            p.ta_sum_ms += g.n[N_TA]
        return BatchDeltas(scopes, pairs, self.lines, self.newest, late, future)


def timer_key(ms: int) -> int:
    """Sketch key of a whole-millisecond timer (cached: timers repeat)."""
    k = _TA_KEYS.get(ms)
    if k is None:
        k = key_for(ms)
        if len(_TA_KEYS) < 65536:
            _TA_KEYS[ms] = k
    return k


def _add_timers(g: Group, tr: int, tc: int, tw: int) -> None:
    """One request's Tr (into its sketch), Tc and Tw (sums, maximum of Tc); -1 = not reached."""
    n, mx = g.n, g.mx
    if tr < 0:
        n[N_NO_TR] += 1
    else:
        n[N_TR] += tr
        if tr > mx[M_TR]:
            mx[M_TR] = tr
        k = timer_key(tr)
        g.tr_buckets[k] = g.tr_buckets.get(k, 0) + 1
    if tc < 0:
        n[N_NO_TC] += 1
    else:
        n[N_TC] += tc
        if tc > mx[M_TC]:
            mx[M_TC] = tc
    if tw < 0:
        n[N_NO_TW] += 1
    else:
        n[N_TW] += tw


def _add_tcp(g: Group, e: LogEntry) -> None:
    """A TCP session: sessions, termination state, connect time, queues (no request counts)."""
    n, mx = g.n, g.mx
    n[N_TCP] += 1
    if e.time_connect_ms > 0:
        n[N_TCP_TC] += e.time_connect_ms
    g.term[e.termination_state] = g.term.get(e.termination_state, 0) + 1
    for pos, v in ((3, e.srv_queue), (4, e.backend_queue), (1, e.actconn), (2, e.srv_conn)):
        if v > mx[pos]:
            mx[pos] = v


def _merge_group(d: ScopeDelta, g: Group, *, buckets: bool = True, tr: bool = False) -> None:
    """`buckets=False`: the frontend×backend scope (counts only, no timers)."""
    sums, maxima = d.sums, d.maxima
    n, mx = g.n, g.mx
    for i, name in _ALL_SUMS if buckets else _PAIR_SUMS:
        v = n[i]
        if v:
            sums[name] = sums.get(name, 0) + v
    for code, c in g.status.items():
        f = f"s:{code}"
        sums[f] = sums.get(f, 0) + c
    for term, c in g.term.items():
        f = f"t:{term}"
        sums[f] = sums.get(f, 0) + c
    for i, name in _ALL_MAXIMA if buckets else _PAIR_MAXIMA:
        v = mx[i]
        if v >= 0 and v > maxima.get(name, -1):
            maxima[name] = v
    if not buckets:
        return
    for k, c in g.buckets.items():
        d.buckets[k] = d.buckets.get(k, 0) + c
    if tr:
        for k, c in g.tr_buckets.items():
            d.tr_buckets[k] = d.tr_buckets.get(k, 0) + c


def aggregate(entries: Iterable[LogEntry], rename: Callable[[str, str], str] | None = None) -> BatchDeltas:
    agg = Aggregator()
    agg.add_all(entries)
    return agg.fold(rename)

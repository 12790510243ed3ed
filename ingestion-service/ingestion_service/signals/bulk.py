"""Aggregate the bulk scanner's raw tuples column-wise: per group, C-level counting and sums."""

from __future__ import annotations

from collections import Counter, defaultdict
from operator import itemgetter

from ingestion_service.haproxy.fields import INTERNAL, frontend_name
from ingestion_service.haproxy.timestamps import minute_epoch
from ingestion_service.haproxy.zones import local_minute_to_utc
from ingestion_service.signals.aggregate import (
    M_TC, M_TR, N_4XX, N_5XX, N_ABORT, N_ACT, N_BEQ, N_BYTES, N_CLIENT, N_NO_TA, N_NO_TC, N_NO_TR, N_NO_TW,
    N_QUEUED, N_REDISPATCHED, N_REQ, N_RETRIED, N_RETRIES, N_SRVCONN, N_SRVQ, N_TA, N_TC, N_TR, N_TW,
    Aggregator, Group, prom_index, timer_key,
)
from ingestion_service.sketch import key_for

_TA_KEYS: dict[str, int] = {}
_MINUTE = itemgetter(0)  # empty when the regex did not take the line (FALLBACK holds it then)
_KEY = itemgetter(0, 2, 3, 4)  # minute, frontend, backend, server
_SEC, _TW, _TC, _TR, _TA, _STATUS, _BYTES, _TERM, _CONN = (itemgetter(i) for i in (1, 5, 6, 7, 8, 9, 10, 11, 12))


def _ta_key(ta: str) -> int:
    k = _TA_KEYS.get(ta)
    if k is None:
        k = key_for(int(ta))
        if len(_TA_KEYS) < 100_000:
            _TA_KEYS[ta] = k
    return k


def add_rows(agg: Aggregator, rows: list[tuple[str, ...]], zone: str = "UTC") -> list[int]:
    """Add every request row (accept dates in `zone`: the scanner takes no line whose header
    carries another offset); returns the indexes of rows the slow path must look at (also
    HAProxy's internal clients, which it skips with the reason)."""
    by_key: defaultdict[tuple[str, ...], list[tuple[str, ...]]] = defaultdict(list)
    if all(map(_MINUTE, rows)):  # every line taken by the regex (the usual case)
        slow: list[int] = []
        good = rows
    else:
        slow = [i for i, r in enumerate(rows) if not r[0]]
        good = [r for r in rows if r[0]]
    for key, r in zip(map(_KEY, good), good):
        by_key[key].append(r)
    for (minute, fe, be, srv), group in by_key.items():
        base = minute_epoch(minute)
        if base is None or srv in INTERNAL or fe in INTERNAL:
            slow.extend(i for i, r in enumerate(rows) if (r[0], r[2], r[3], r[4]) == (minute, fe, be, srv))
            continue
        _add_group(agg, local_minute_to_utc(base, zone), frontend_name(fe), be, srv, group)
    slow.sort()
    return slow


def _add_group(agg: Aggregator, base: int, fe: str, be: str, srv: str, group: list[tuple[str, ...]]) -> None:
    """One group's rows, column by column (C-level `map(itemgetter)`, no transposition)."""
    n = len(group)
    gk = (base, fe, be, srv)
    g = agg.groups.get(gk)
    if g is None:
        g = agg.groups[gk] = Group()
    agg.lines += n
    newest = base + int(max(map(_SEC, group)))
    if agg.newest is None or newest > agg.newest:
        agg.newest = newest
    sums, mx = g.n, g.mx
    sums[N_REQ] += n
    for status, c in Counter(map(_STATUS, group)).items():
        code = int(status)
        g.status[code] = g.status.get(code, 0) + c
        if 400 <= code < 500:
            sums[N_4XX] += c
        elif 500 <= code < 600:
            sums[N_5XX] += c
    for term, c in Counter(map(_TERM, group)).items():
        g.term[term] = g.term.get(term, 0) + c
        if term[0] == "C":
            sums[N_ABORT] += c
            sums[N_CLIENT] += c
        elif term[0] == "c":
            sums[N_CLIENT] += c
    tw = list(map(_TW, group))
    if tw.count("0") != n:
        for v, c in Counter(tw).items():
            ms = int(v)
            if ms < 0:
                sums[N_NO_TW] += c
            elif ms > 0:
                sums[N_QUEUED] += c
                sums[N_TW] += ms * c
    for v, c in Counter(map(_TC, group)).items():
        ms = int(v)
        if ms < 0:
            sums[N_NO_TC] += c
        else:
            sums[N_TC] += ms * c
            if ms > mx[M_TC]:
                mx[M_TC] = ms
    tr_buckets = g.tr_buckets
    for v, c in Counter(map(_TR, group)).items():
        ms = int(v)
        if ms < 0:
            sums[N_NO_TR] += c
            continue
        sums[N_TR] += ms * c
        if ms > mx[M_TR]:
            mx[M_TR] = ms
        k = timer_key(ms)
        tr_buckets[k] = tr_buckets.get(k, 0) + c
    sums[N_BYTES] += sum(map(int, map(_BYTES, group)))
    conn = Counter(map(_CONN, group))
    if len(conn) == 1 and "0/0/0/0/0 0/0" in conn:
        for mpos in range(1, 6):
            if mx[mpos] < 0:
                mx[mpos] = 0
    else:
        for text, c in conn.items():
            _add_conn(sums, mx, text, c)
    buckets, prom = g.buckets, g.prom
    ta_sum, ta_max = 0, mx[0]
    for ta, c in Counter(map(_TA, group)).items():
        v = int(ta)
        if v < 0:
            sums[N_NO_TA] += c
            continue
        ta_sum += v * c
        if v > ta_max:
            ta_max = v
        k = _ta_key(ta)
        buckets[k] = buckets.get(k, 0) + c
        prom[prom_index(v)] += c
    sums[N_TA] += ta_sum
    mx[0] = ta_max


def _add_conn(sums: list[int], mx: list[int], text: str, c: int) -> None:
    """`actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue` seen `c` times."""
    counts, queues = text.split(" ")
    act, _fe, _be, srv, retries = map(int, counts.split("/"))
    srvq, beq = map(int, queues.split("/"))
    if retries > 0:
        sums[N_RETRIED] += c
    if "+" in counts:
        sums[N_REDISPATCHED] += c
    for pos, mpos, v in ((N_ACT, 1, act), (N_SRVCONN, 2, srv), (N_SRVQ, 3, srvq), (N_BEQ, 4, beq),
                         (N_RETRIES, 5, retries)):
        sums[pos] += v * c
        if v > mx[mpos]:
            mx[mpos] = v

"""Read scope-minutes back: one pipelined round trip for any number of (scope, minute).

READ_MINUTES, READ_NAMED, READ_SPAN and PRESENT read a scope's minutes of one hour in one script
call: a call's keys share the scope-hour's hash tag (store/keys.py), as Redis Cluster requires, and
the hours' answers are merged here by the same rules (sums added, maxima kept, buckets added). A
24 h window is 25 calls per scope, in one round trip; on a cluster the pipeline sends each master
its calls on one connection, the masters in parallel.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import NoScriptError

from ingestion_service.signals.aggregate import TR_KINDS
from ingestion_service.sketch import ZERO_KEY
from ingestion_service.store import keys
from ingestion_service.store.client import Store
from ingestion_service.store.scripts import PRESENT, READ_MINUTES, READ_NAMED, READ_SPAN


@dataclass
class MinuteData:
    sums: dict[str, int] = field(default_factory=dict)
    maxima: dict[str, int] = field(default_factory=dict)
    buckets: dict[int, int] = field(default_factory=dict)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decode(raw: list[list[bytes]]) -> MinuteData:
    """One minute of READ_MINUTES: {counters flat, buckets flat}."""
    counters, buckets = raw
    data = MinuteData()
    for i in range(0, len(counters), 2):
        name, value = _text(counters[i]), int(counters[i + 1])
        if name.startswith("x:"):
            data.maxima[name[2:]] = value
        elif name == "hz":
            data.buckets[ZERO_KEY] = value
        elif name != "hk":
            data.sums[name] = value
    if buckets:  # each sketch key lives in exactly one bucket hash: no duplicates to add up
        data.buckets.update(zip(map(int, buckets[0::2]), map(int, buckets[1::2])))
    return data


async def read_minutes(
    redis: Store, scopes: list[tuple[str, str]], minutes: list[int], *, buckets: bool = True
) -> dict[tuple[str, str], list[MinuteData]]:
    """For each (kind, name) the data of each minute (epoch seconds of minute starts), in order: one
    READ_MINUTES call per scope-hour, all in one round trip.
    `buckets=False` reads only the counters hash (no latency histogram): cheaper."""
    if not scopes or not minutes:
        return {s: [] for s in scopes}
    groups = call_groups(minutes)
    raw = await _script_calls(redis, READ_MINUTES, [
        (len(g), *(keys.counters_key(kind, name, m // 60) for m in g), int(buckets))
        for kind, name in scopes for g in groups])
    step = len(groups)
    return {scope: [_decode(minute) for part in raw[i * step:(i + 1) * step] for minute in part]
            for i, scope in enumerate(scopes)}


@dataclass
class NamedWindow:
    """One scope over a window: requests, 5xx, the merged Ta latency buckets, retries,
    redispatches, client aborts and the merged Tr buckets (None: the scope keeps no Tr sketch)."""

    requests: int = 0
    errors_5xx: int = 0
    buckets: dict[int, int] = field(default_factory=dict)
    retries: int = 0
    redispatches: int = 0
    client_aborts: int = 0
    tr_buckets: dict[int, int] | None = None


async def names_and_active_minutes(
    redis: Store, kinds: list[str], minutes: list[int]
) -> tuple[list[list[str]], list[int]]:
    """The names of each kind, and the minutes holding any data (two round trips at once). Every
    scope-minute written also wrote the site's, with the same TTL, so a minute without a site
    counters hash has no data in any scope."""
    async def named() -> list[Any]:
        async with redis.pipeline(transaction=False) as pipe:
            for kind in kinds:
                pipe.smembers(keys.names_key(kind))
            return list(await pipe.execute())

    async def present() -> list[int]:
        groups = call_groups(minutes)
        found = await _script_calls(redis, PRESENT, [
            (len(g), *(keys.counters_key("s", "", m // 60) for m in g)) for g in groups])
        return [m for g, f in zip(groups, found) for m, hit in zip(g, f) if hit]

    raw, held = await asyncio.gather(named(), present()) if minutes else (await named(), [])
    return [sorted(map(_text, r)) for r in raw], held


def call_groups(minutes: list[int]) -> list[list[int]]:
    """The minutes one script call reads together, in order: those of one hour (one hash tag, so
    one slot on a cluster). Standalone too: a call over an hour's 60 keys costs Redis less per key
    than one over a day's 1,440 (docs/benchmarks.md, "Redis Cluster")."""
    return [list(g) for _, g in itertools.groupby(minutes, key=keys.hour_of)]


async def read_named(
    redis: Store, scopes: list[tuple[str, str]], minutes: list[int], *,
    counts_only: frozenset[tuple[str, str]] = frozenset(), active: bool = False,
) -> dict[tuple[str, str], NamedWindow]:
    """Requests, 5xx, retries, redispatches, client aborts, (except for `counts_only` scopes) Ta
    latency buckets and (for the kinds keeping one) the Tr sketch of each scope summed over
    `minutes`, merged inside Redis per scope-hour holding data and here over the hours (all in one
    round trip; `active`: the minutes come from
    `names_and_active_minutes`, all hold data, not checked again)."""
    out = {s: NamedWindow(tr_buckets={} if s[0] in TR_KINDS else None) for s in scopes}
    if not scopes or not minutes:
        return out

    def argv(scope: tuple[str, str]) -> tuple[int, int, int]:
        return ZERO_KEY, int(scope not in counts_only), int(scope[0] in TR_KINDS)

    groups = call_groups(minutes)
    if not active and len(groups) > 1:  # no call for an hour without data
        groups = call_groups((await names_and_active_minutes(redis, [], minutes))[1])
    raw = await _script_calls(redis, READ_NAMED, [
        (len(g), *(keys.counters_key(scope[0], scope[1], m // 60) for m in g), *argv(scope))
        for scope in scopes for g in groups])
    step = len(groups)
    for i, scope in enumerate(scopes):
        n = e5 = rt = rd = ca = 0
        ta: dict[int, int] = {}
        tr: dict[int, int] = {}
        for part_n, part_e5, packed, part_rt, part_rd, part_ca, packed_tr in raw[i * step:(i + 1) * step]:
            n, e5, rt = n + int(part_n), e5 + int(part_e5), rt + int(part_rt)
            rd, ca = rd + int(part_rd), ca + int(part_ca)
            _add_packed(ta, packed)
            _add_packed(tr, packed_tr)
        out[scope] = NamedWindow(
            n, e5, ta, rt, rd, ca,
            {keys.sketch_key_of(k): c for k, c in tr.items()} if scope[0] in TR_KINDS else None)
    return out


async def _script_calls(redis: Store, script: str, calls: list[tuple[Any, ...]]) -> list[Any]:
    """Script calls (numkeys, *keys, *argv each) in one round trip, as EVALSHA: a call per
    scope-hour would carry far more script than keys otherwise. A server that answers NOSCRIPT
    (the first read, a restarted Redis, or a replica promoted since) gets the script loaded (into
    every master on a cluster), and the calls are sent once more."""
    sha = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    for attempt in range(2):
        async with redis.pipeline(transaction=False) as pipe:
            for call in calls:  # the method is blocked on cluster pipelines, the command is routed by key
                pipe.execute_command("EVALSHA", sha, *call)
            raw = list(await pipe.execute(raise_on_error=False))
        if attempt or not any(isinstance(r, NoScriptError) for r in raw):
            break
        await redis.script_load(script)
    for outcome in raw:
        if isinstance(outcome, Exception):
            raise outcome
    return raw


def _add_packed(acc: dict[int, int], packed: bytes | str) -> None:
    """Add "key count key count ..." into `acc` (no dict made per call: it runs per scope-hour)."""
    if not packed:
        return
    parts = packed.split()
    get = acc.get
    for k, c in zip(map(int, parts[0::2]), map(int, parts[1::2])):
        acc[k] = get(k, 0) + c


def _pairs(packed: bytes | str) -> dict[int, int]:
    parts = packed.split()
    return dict(zip(map(int, parts[0::2]), map(int, parts[1::2])))


async def read_packed(redis: Store, scope: tuple[str, str], minutes: list[int]) -> dict[int, int]:
    """The Tr sketch of one scope merged over `minutes` (empty for kinds keeping none)."""
    return (await read_named(redis, [scope], minutes, counts_only=frozenset([scope])))[scope].tr_buckets or {}


async def names(redis: Store, kind: str) -> list[str]:
    return sorted(_text(n) for n in await redis.smembers(keys.names_key(kind)))


@dataclass
class SpanData:
    """One scope over a span: its counters summed, its maxima, per minute the values of the fields
    asked for (then the server failures), the merged Ta buckets and Tr sketch (None: keeps none)."""

    sums: dict[str, int] = field(default_factory=dict)
    maxima: dict[str, int] = field(default_factory=dict)
    minutes: list[list[int]] = field(default_factory=list)
    buckets: dict[int, int] = field(default_factory=dict)
    tr_buckets: dict[int, int] | None = None


def _named_pairs(packed: bytes | str) -> dict[str, int]:
    parts = _text(packed).split()
    return dict(zip(parts[0::2], map(int, parts[1::2])))


async def read_spans(redis: Store, scopes: list[tuple[str, str]], minutes: list[int],
                     columns: tuple[str, ...], *,
                     without_ta: frozenset[tuple[str, str]] = frozenset()) -> dict[tuple[str, str], SpanData]:
    """Each scope's SpanData over `minutes` (one script call per scope-hour holding data, all in one
    round trip);
    `without_ta` scopes come without their Ta buckets."""
    if not scopes or not minutes:
        return {s: SpanData(minutes=[[0] * (len(columns) + 1) for _ in minutes],
                            tr_buckets={} if s[0] in TR_KINDS else None) for s in scopes}

    def argv(kind: str, name: str) -> tuple[Any, ...]:
        return ZERO_KEY, int((kind, name) not in without_ta), int(kind in TR_KINDS), *columns

    width = len(columns) + 1
    # every call answers {sums, maxima, the columns of its minutes, Ta buckets, Tr}
    groups = call_groups(minutes)
    read = [True] * len(groups)
    if len(groups) > 1:  # no call for an hour without data
        held = set((await names_and_active_minutes(redis, [], minutes))[1])
        read = [not held.isdisjoint(g) for g in groups]
    raw = iter(await _script_calls(redis, READ_SPAN, [
        (len(g), *(keys.counters_key(kind, name, m // 60) for m in g), *argv(kind, name))
        for kind, name in scopes for g, r in zip(groups, read) if r]))
    out = {}
    for scope in scopes:  # in minute order: an hour not read is a zero row per minute
        parts: list[Sequence[bytes | str] | None] = []
        for g, r in zip(groups, read):
            parts.extend([next(raw)] if r else [None] * len(g))
        out[scope] = _merge_spans(parts, width, keeps_tr=scope[0] in TR_KINDS)
    return out


def _merge_spans(parts: Sequence[Sequence[bytes | str] | None], width: int, *, keeps_tr: bool) -> SpanData:
    """Calls' answers (each over its minutes) in minute order merged; None: a minute not read."""
    data = SpanData(tr_buckets={} if keeps_tr else None)
    tr: dict[int, int] = {}
    for part in parts:
        if part is None:
            data.minutes.append([0] * width)
            continue
        sums, maxima, cols, ta, packed_tr = part
        for f, v in _named_pairs(sums).items():
            data.sums[f] = data.sums.get(f, 0) + v
        for f, v in _named_pairs(maxima).items():
            data.maxima[f] = max(v, data.maxima.get(f, v))
        values = list(map(int, cols.split()))
        data.minutes.extend(values[i:i + width] for i in range(0, len(values), width))
        _add_packed(data.buckets, ta)
        _add_packed(tr, packed_tr)
    if keeps_tr:
        data.tr_buckets = {keys.sketch_key_of(i): c for i, c in tr.items()}
    return data

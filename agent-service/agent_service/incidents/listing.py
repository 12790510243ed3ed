"""`GET /incidents` served from Redis indexes, never by loading incidents beyond the page.

The indexes, written by `index_for_list` inside the incident's own MULTI (store.py): the
newest-first zset of every incident (`incidents:by_created`), one zset per status and one per
severity (score = created time, as by_created), and a hash id → IncidentSummary JSON. A page is
ids read from an index plus their summaries from the hash.

The cursor is a position in the unfiltered newest-first list: how many incidents come before the
page's first candidate (for the unfiltered list, exactly its offset). A filtered list resumes at
that position of its own index, so an incident changing status between two pages does not move
where the next one starts. Both filters: the smaller index is walked and each id checked in the
other (ZMSCORE), at most WALK_BUDGET entries per request; fewer than `limit` incidents with a
`next_cursor` means the walk stopped there (ask for the next page). `next_cursor` is None at the end.

`q=` walks the same index (or every incident), loads the candidates' documents SEARCH_BATCH at a
time and matches them (search.matches, in a thread): per request at most SEARCH_SCAN candidates
and SEARCH_BYTES of documents, SEARCHES searches at once per process (the others wait for a
turn, SEARCH_WAIT_S at most, then SearchBusy), so memory is bounded by SEARCHES x SEARCH_BATCH
documents whatever the number of requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import get_args

import redis.asyncio as aioredis

from agent_service.incidents.models import Incident, IncidentList, IncidentSeverity, IncidentStatus, IncidentSummary
from agent_service.incidents.search import matches
from agent_service.keys import (
    INCIDENTS_BY_CREATED,
    INCIDENTS_SUMMARIES,
    incident_key,
    severity_index_key,
    status_index_key,
)

SEVERITIES: tuple[str, ...] = get_args(IncidentSeverity)
WALK_BATCH = 200  # index entries read (and checked in the other index) per round trip
WALK_BUDGET = 2000  # index entries one request with both filters looks at, at most
MAX_TIES = 1000  # incidents created at the very same instant that a resumed walk tells apart
SEARCH_BATCH = 4  # documents in memory at once per search (the byte bound is checked between batches)
SEARCH_SCAN = 500  # candidates one `q=` request looks at, at most
SEARCH_BYTES = 8 * 1024 * 1024  # document bytes one `q=` request reads, at most (then it stops there)
SEARCHES = 2  # `q=` searches running at once per process
SEARCH_WAIT_S = 10.0  # how long a `q=` request waits for one of them, then SearchBusy (429)

Pipeline = aioredis.client.Pipeline
Position = tuple[float, str]  # (score, member) of an index entry
Keep = Callable[[list[str]], Awaitable[list[bool]]]


def index_for_list(pipe: Pipeline, incident: Incident) -> None:
    """Queue (inside the incident's MULTI) its summary and its status and severity entries
    (`incidents:by_created` is written once, at creation)."""
    member = str(incident.id)
    score = incident.created_at.timestamp()
    pipe.hset(INCIDENTS_SUMMARIES, member, IncidentSummary.of(incident).model_dump_json())
    for status in IncidentStatus:
        if status == incident.status:
            pipe.zadd(status_index_key(status), {member: score})
        else:
            pipe.zrem(status_index_key(status), member)
    for severity in SEVERITIES:
        if severity == incident.severity:
            pipe.zadd(severity_index_key(severity), {member: score})
        else:
            pipe.zrem(severity_index_key(severity), member)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _entries(raw: Sequence[tuple[bytes | str, float]]) -> list[tuple[str, float]]:
    return [(_text(member), float(score)) for member, score in raw]


@dataclass(frozen=True)
class Walk:
    found: list[str]  # accepted members, newest first
    stopped_at: str | None  # the last member looked at when the walk stopped before the index's end
    seen: int


def _matching(raws: dict[str, bytes | None], *, query: str, status: IncidentStatus | None,
              severity: str | None) -> set[str]:
    return {m for m, raw in raws.items()
            if raw and matches(Incident.model_validate_json(raw), status=status, severity=severity, query=query)}


class SearchBusy(Exception):
    """Every search slot stayed taken for SEARCH_WAIT_S."""


class IncidentLists:
    def __init__(self, redis: aioredis.Redis, *, walk_budget: int = WALK_BUDGET, search_scan: int = SEARCH_SCAN,
                 search_bytes: int = SEARCH_BYTES, searches: int = SEARCHES, search_wait_s: float = SEARCH_WAIT_S
                 ) -> None:
        self.redis = redis
        self.walk_budget = walk_budget
        self.search_scan = search_scan
        self.search_bytes = search_bytes
        self.search_wait_s = search_wait_s
        self.searches = asyncio.Semaphore(searches)

    async def page(
        self, *, status: IncidentStatus | None, severity: str | None, limit: int, cursor: int
    ) -> IncidentList:
        if status is None and severity is None:
            raw = await self.redis.zrevrange(INCIDENTS_BY_CREATED, cursor, cursor + limit)
            ids = [_text(m) for m in raw]
            return await self._answer(ids[:limit], cursor + limit if len(ids) > limit else None)
        index, other = await self._indexes(status, severity)
        keep = None if other is None else self._member_of(other)
        budget = limit + 1 if other is None else self.walk_budget
        walk = await self._walk(index, cursor=cursor, want=limit + 1, budget=budget, batch=WALK_BATCH, keep=keep)
        return await self._answer(*await self._next(walk, cursor=cursor, limit=limit))

    async def search(
        self, query: str, *, status: IncidentStatus | None, severity: str | None, limit: int, cursor: int
    ) -> IncidentList:
        index, other = (INCIDENTS_BY_CREATED, None)
        if status is not None or severity is not None:
            index, other = await self._indexes(status, severity)
        member_of = None if other is None else self._member_of(other)
        loaded = 0

        async def keep(members: list[str]) -> list[bool]:
            nonlocal loaded
            candidates = members if member_of is None else [
                m for m, ok in zip(members, await member_of(members), strict=True) if ok]
            raws = await self.redis.mget([incident_key(int(m)) for m in candidates]) if candidates else []
            loaded += sum(len(raw) for raw in raws if raw)
            found = await asyncio.to_thread(_matching, dict(zip(candidates, raws, strict=True)), query=query,
                                            status=status, severity=severity)  # off the event loop
            return [m in found for m in members]

        try:
            await asyncio.wait_for(self.searches.acquire(), self.search_wait_s)
        except TimeoutError:
            raise SearchBusy(f"every search slot stayed taken for {self.search_wait_s:g} s") from None
        try:
            walk = await self._walk(index, cursor=cursor, want=limit + 1, budget=self.search_scan, batch=SEARCH_BATCH,
                                    keep=keep, enough=lambda: loaded >= self.search_bytes)
        finally:
            self.searches.release()
        return await self._answer(*await self._next(walk, cursor=cursor, limit=limit))

    async def _indexes(self, status: IncidentStatus | None, severity: str | None) -> tuple[str, str | None]:
        """The index to walk and, with both filters, the one to check membership in (the smaller is walked)."""
        if status is None or severity is None:
            return (status_index_key(status) if status is not None else severity_index_key(str(severity))), None
        by_status, by_severity = status_index_key(status), severity_index_key(severity)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(by_status)
            pipe.zcard(by_severity)
            statuses, severities = await pipe.execute()
        return (by_status, by_severity) if statuses <= severities else (by_severity, by_status)

    def _member_of(self, index: str) -> Keep:
        async def keep(members: list[str]) -> list[bool]:
            scores = await self.redis.zmscore(index, members)  # type: ignore[arg-type]
            return [score is not None for score in scores]

        return keep

    async def _walk(self, index: str, *, cursor: int, want: int, budget: int, batch: int, keep: Keep | None,
                    enough: Callable[[], bool] = lambda: False) -> Walk:
        """Members of `index` from the position `cursor` on, newest first, that `keep` accepts:
        at most `want`, looking at no more than `budget` entries, stopping after the batch that
        makes `enough()` true."""
        position: Position | None = None
        inclusive = True
        if cursor:
            anchor = _entries(await self.redis.zrevrange(INCIDENTS_BY_CREATED, cursor, cursor, withscores=True))
            if not anchor:
                return Walk(found=[], stopped_at=None, seen=0)
            position = (anchor[0][1], anchor[0][0])
        found: list[str] = []
        seen = 0
        last: str | None = None
        while seen < budget:
            count = min(batch, budget - seen)
            entries = await self._after(index, position, count, inclusive=inclusive)
            members = [member for member, _ in entries]
            accepted = await keep(members) if keep is not None and members else [True] * len(members)
            for member, ok in zip(members, accepted, strict=True):
                seen, last = seen + 1, member
                if ok:
                    found.append(member)
                    if len(found) == want:
                        return Walk(found=found, stopped_at=member, seen=seen)
            if len(entries) < count:
                return Walk(found=found, stopped_at=None, seen=seen)
            if enough():
                break
            position, inclusive = (entries[-1][1], entries[-1][0]), False
        return Walk(found=found, stopped_at=last, seen=seen)

    async def _after(self, index: str, position: Position | None, count: int, *, inclusive: bool) -> list[tuple[str, float]]:
        """Up to `count` entries of `index` after `position` in newest-first order (score, then
        member, descending — Redis's own order for equal scores)."""
        if position is None:
            return _entries(await self.redis.zrevrange(index, 0, count - 1, withscores=True))
        score, member = position
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrevrangebyscore(index, score, score, start=0, num=MAX_TIES, withscores=True)
            pipe.zrevrangebyscore(index, f"({score!r}", "-inf", start=0, num=count, withscores=True)
            ties, older = await pipe.execute()
        same = [(m, s) for m, s in _entries(ties) if m < member or (inclusive and m == member)]
        return (same + _entries(older))[:count]

    async def _next(self, walk: Walk, *, cursor: int, limit: int) -> tuple[list[str], int | None]:
        """The page's members and the cursor just after the last member it accounts for."""
        page = walk.found[:limit]
        last = page[-1] if len(walk.found) > limit else walk.stopped_at
        if last is None:
            return page, None
        rank = await self.redis.zrevrank(INCIDENTS_BY_CREATED, last)
        return page, (int(rank) + 1 if rank is not None else cursor + walk.seen)

    async def _answer(self, members: list[str], next_cursor: int | None) -> IncidentList:
        summaries = await self._summaries(members)
        return IncidentList(incidents=summaries, count=len(summaries), next_cursor=next_cursor)

    async def _summaries(self, members: list[str]) -> list[IncidentSummary]:
        """From the summaries hash; an incident stored before it existed (the start-up backfill has
        not run yet) is read whole, once per page."""
        if not members:
            return []
        raws = await self.redis.hmget(INCIDENTS_SUMMARIES, members)
        out: dict[str, IncidentSummary] = {
            m: IncidentSummary.model_validate_json(raw) for m, raw in zip(members, raws, strict=True) if raw}
        missing = [m for m in members if m not in out]
        if missing:
            docs = await self.redis.mget([incident_key(int(m)) for m in missing])
            out.update({m: IncidentSummary.of(Incident.model_validate_json(doc))
                        for m, doc in zip(missing, docs, strict=True) if doc})
        return [out[m] for m in members if m in out]

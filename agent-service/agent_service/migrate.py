"""One-time start-up steps over the agent's stored data, each done once (a marker key).

`migrate_keys`: `incident:{id}` → `incidents:{id}` with RENAMENX (atomic per key; an incident
already under its new name is never overwritten, the legacy copy is then left and logged). Several
agents starting at once do the same renames; the second finds nothing left. Marker `LAYOUT`.

`backfill_list_indexes`: incidents stored before the list indexes (incidents/listing.py) existed
get their summary and status/severity entries, BACKFILL_BATCH documents per watched transaction
(a concurrent change is re-read, never indexed from a stale copy), oldest first along
`incidents:by_created`. Idempotent: agents starting at once, or a start cut off half-way, only
write the same entries again. Marker `LIST_INDEXES`.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

from agent_service.incidents.store import IncidentStore
from agent_service.keys import INCIDENTS_BY_CREATED, LAYOUT, LEGACY_INCIDENT_PREFIX, LIST_INDEXES, incident_key

log = logging.getLogger(__name__)
CURRENT_LAYOUT = "2"
CURRENT_LIST_INDEXES = "1"
SCAN_COUNT = 500
BACKFILL_BATCH = 10  # incident documents in memory at once


async def migrate_keys(redis: aioredis.Redis) -> int:
    """Rename legacy incident keys; returns how many were moved."""
    if (await redis.get(LAYOUT)) in (CURRENT_LAYOUT, CURRENT_LAYOUT.encode()):
        return 0
    moved = 0
    async for raw in redis.scan_iter(match=f"{LEGACY_INCIDENT_PREFIX}*", count=SCAN_COUNT):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        suffix = key.removeprefix(LEGACY_INCIDENT_PREFIX)
        if not suffix.isdigit():
            continue
        if await redis.renamenx(key, incident_key(int(suffix))):
            moved += 1
        else:
            log.warning("incident %s exists under both key layouts: the legacy %s is left as it is", suffix, key)
    await redis.set(LAYOUT, CURRENT_LAYOUT)
    if moved:
        log.info("migrated %d incidents to the incidents:{id} key layout", moved)
    return moved


async def backfill_list_indexes(redis: aioredis.Redis, *, batch: int = BACKFILL_BATCH) -> int:
    """Index every incident of `incidents:by_created` for the lists; returns how many were indexed."""
    if (await redis.get(LIST_INDEXES)) in (CURRENT_LIST_INDEXES, CURRENT_LIST_INDEXES.encode()):
        return 0
    store = IncidentStore(redis)
    indexed = start = 0
    # Oldest first: an incident created meanwhile goes to the end (and is indexed by its own write).
    while ids := await redis.zrange(INCIDENTS_BY_CREATED, start, start + batch - 1):
        indexed += await store.reindex([int(i) for i in ids])
        start += batch
    await redis.set(LIST_INDEXES, CURRENT_LIST_INDEXES)
    if indexed:
        log.info("indexed %d stored incidents for the filtered lists", indexed)
    return indexed

"""One-time move of the agent's legacy Redis keys to the one key style of keys.py (at start-up).

`incident:{id}` → `incidents:{id}` with RENAMENX (atomic per key; an incident already under its new
name is never overwritten, the legacy copy is then left and logged). Several agents starting at
once do the same renames; the second finds nothing left. Done once: the `LAYOUT` marker.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

from agent_service.keys import LAYOUT, LEGACY_INCIDENT_PREFIX, incident_key

log = logging.getLogger(__name__)
CURRENT_LAYOUT = "2"
SCAN_COUNT = 500


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

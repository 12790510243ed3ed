"""Put the stack's own Redis under memory pressure for a scenario, and take it off again."""

from __future__ import annotations

import redis

from tests.scenarios.model import RedisCondition

FILLER = "scenario:filler:"
CHUNK = 256 * 1024
MAX_CHUNKS = 8192


def used_pct(client: redis.Redis) -> float:
    info = client.info("memory")
    maxmemory = int(info.get("maxmemory") or 0)
    return 100.0 * int(info["used_memory"]) / maxmemory if maxmemory else 0.0


def fill(url: str, condition: RedisCondition) -> float:
    """Set maxmemory and write filler until used memory reaches the condition; returns the %."""
    client = redis.Redis.from_url(url)
    try:
        client.config_set("maxmemory", condition.maxmemory_mb * 1024 * 1024)
        blob = b"x" * CHUNK
        for number in range(MAX_CHUNKS):
            if used_pct(client) >= condition.memory_pct:
                break
            client.set(f"{FILLER}{number}", blob)
        return used_pct(client)
    finally:
        client.close()


def release(url: str) -> None:
    """Remove the filler and maxmemory (0 = no limit)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{FILLER}*", count=1000))
        for first in range(0, len(keys), 500):
            client.delete(*keys[first:first + 500])
        client.config_set("maxmemory", 0)
    finally:
        client.close()

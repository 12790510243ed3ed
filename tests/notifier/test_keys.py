"""keys.py and the Lua scripts spell the same key names (the scripts build them from the prefix)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from notifier_service.keys import QueueKeys
from notifier_service.store import NotificationStore

pytestmark = pytest.mark.real


def _payload(event: str) -> dict[str, object]:
    return {"incident_id": "7", "event": event, "severity": "critical", "title": "t", "summary": "s",
            "report_markdown": "", "url": "", "to": ["oncall@example.com"]}


async def test_the_scripts_write_the_keys_that_keys_py_names(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = NotificationStore(client, prefix="kt:")
        keys = QueueKeys("kt:")
        opened = await store.enqueue(_payload("opened"), idempotency_key="idem-1", root_message_id="<r@x>",
                                     message_id_for=lambda i: f"<{i}@x>", coalesce_interval=60, retention=3600)
        assert await client.hget(keys.notification(opened.id), "status") == b"queued"
        assert await client.zscore(keys.due, opened.id) is not None
        assert await client.zscore(keys.index("queued"), opened.id) is not None
        assert await client.zscore(keys.index(), opened.id) is not None
        assert await client.get(keys.named("idem:idem-1")) == opened.id.encode()
        _, claimed = await store.claim(n=1, lease_seconds=30)
        assert [c.id for c in claimed] == [opened.id]
        assert await client.zscore(keys.processing, opened.id) is not None
        assert await client.zscore(keys.due, opened.id) is None
        assert all(k.startswith(b"kt:") for k in await client.keys("*"))
    finally:
        await client.aclose()

"""POST /alerts intake: deduplicate, pick the incident id and persist the delivery in one atomic
Redis script, so the 202 is sent only once the delivery is durable and two concurrent copies of
the same delivery can never both be queued.

Grouping rule (documented in docs/post-mortems/README.md): one incident per Alertmanager group
(groupKey) while that incident is not RESOLVED; a firing delivery for a group without one gets a
new sequential id here, and the worker creates the incident with that id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis

from oncall_common.lua import lua_script
from agent_service.incidents.webhook import WebhookPayload
from agent_service.keys import (
    DELIVERIES,
    INCIDENT_SEQ,
    delivery_key,
    group_epoch_key,
    group_last_key,
    group_open_key,
)

_INTAKE = lua_script("agent_service", "intake.lua")  # KEYS and ARGV: see the script


@dataclass(frozen=True)
class IntakeResult:
    incident_ids: list[int]
    duplicate: bool


class AlertIntake:
    def __init__(self, redis: aioredis.Redis, *, dedup_ttl_s: int) -> None:
        self.redis = redis
        self.dedup_ttl_s = dedup_ttl_s
        self._script = redis.register_script(_INTAKE)

    async def accept(self, payload: WebhookPayload, *, request_id: str = "") -> IntakeResult:
        ghash = payload.group_hash()
        key = payload.delivery_key()
        duplicate, raw_id = await self._script(
            keys=[delivery_key(key), group_open_key(ghash), INCIDENT_SEQ, DELIVERIES, group_last_key(ghash),
                  group_epoch_key(ghash)],
            args=[
                payload.model_dump_json(by_alias=True),
                payload.delivery_status,
                self.dedup_ttl_s,
                key,
                datetime.now(UTC).isoformat(),
                request_id,
            ],
        )
        text = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id or "")
        return IntakeResult(incident_ids=[int(text)] if text else [], duplicate=bool(duplicate))

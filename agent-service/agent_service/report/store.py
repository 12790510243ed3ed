"""Reports in Redis, each under its own key with a TTL."""

from __future__ import annotations

import redis.asyncio as aioredis

from agent_service.keys import legacy_report_key, report_key
from agent_service.models import IncidentReport


class ReportStore:
    def __init__(self, redis: aioredis.Redis, *, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def save(self, report: IncidentReport) -> None:
        await self.redis.set(report_key(report.id), report.model_dump_json(), ex=self.ttl_s)

    async def get(self, report_id: str) -> IncidentReport | None:
        raw = await self.redis.get(report_key(report_id))
        if raw is None:  # written before the key layout changed (expires within one REPORT_TTL_S)
            raw = await self.redis.get(legacy_report_key(report_id))
        if raw is None:
            return None
        return IncidentReport.model_validate_json(raw)

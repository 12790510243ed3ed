"""Reports in Redis, each under its own key with a TTL."""

from __future__ import annotations

import redis.asyncio as aioredis

from agent_service.models import IncidentReport

PREFIX = "oncall:agent:report:"


class ReportStore:
    def __init__(self, redis: aioredis.Redis, *, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def save(self, report: IncidentReport) -> None:
        await self.redis.set(PREFIX + report.id, report.model_dump_json(), ex=self.ttl_s)

    async def get(self, report_id: str) -> IncidentReport | None:
        raw = await self.redis.get(PREFIX + report_id)
        if raw is None:
            return None
        return IncidentReport.model_validate_json(raw)

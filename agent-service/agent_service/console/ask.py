""""Ask the copilot": an analysis run as a background task, its progress kept in Redis so the
page can poll it (and any process can answer the poll). The report itself is the ReportStore's."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel

from agent_service.console.keys import ask_key
from agent_service.models import AnalyzeRequest
from agent_service.orchestrator import Analysis, Slot

log = logging.getLogger(__name__)

JOB_TTL_S = 24 * 3600


class AskJob(BaseModel):
    id: str
    by: str
    request: AnalyzeRequest
    status: Literal["running", "done", "failed"] = "running"
    started_at: float
    finished_at: float | None = None
    report_id: str | None = None
    error: str | None = None


class AskJobs:
    def __init__(self, *, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    async def get(redis: aioredis.Redis, job_id: str) -> AskJob | None:
        if not job_id.replace("-", "").replace("_", "").isalnum() or len(job_id) > 40:
            return None
        raw = await redis.get(ask_key(job_id))
        return AskJob.model_validate_json(raw) if raw else None

    @staticmethod
    async def _save(redis: aioredis.Redis, job: AskJob) -> None:
        await redis.set(ask_key(job.id), job.model_dump_json(), ex=JOB_TTL_S)

    async def start(self, redis: aioredis.Redis, analyzer: Analysis, slot: Slot, request: AnalyzeRequest,
                    *, by: str) -> AskJob:
        """Store the job as running and run it in the background under `slot` (already taken)."""
        job = AskJob(id=secrets.token_urlsafe(12), by=by, request=request, started_at=time.time())
        await self._save(redis, job)
        task = asyncio.create_task(self._run(redis, analyzer, slot, job), name=f"console-ask-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def _run(self, redis: aioredis.Redis, analyzer: Analysis, slot: Slot, job: AskJob) -> None:
        try:
            async with slot:
                report = await asyncio.wait_for(analyzer.analyze(job.request), self.timeout_s)
            job = job.model_copy(update={"status": "done", "report_id": report.id, "finished_at": time.time()})
        except TimeoutError:
            job = job.model_copy(update={"status": "failed", "finished_at": time.time(),
                                         "error": f"the analysis took longer than {self.timeout_s:g}s"})
        except Exception as exc:  # noqa: BLE001 - shown on the job's page
            log.exception("console analysis %s failed", job.id)
            job = job.model_copy(update={"status": "failed", "finished_at": time.time(),
                                         "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
        await self._save(redis, job)

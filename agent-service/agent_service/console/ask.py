""""Ask the copilot": an analysis run as a background task, its state and each step's progress kept
in Redis in the one job record, so the page can poll it (and any process can answer the poll).
The report itself is the ReportStore's."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from agent_service.console.ask_progress import MAX_PROGRESS_LINES, StepLine, advance, stopped
from agent_service.console.keys import ask_key
from agent_service.models import AnalyzeRequest
from agent_service.orchestrator import Analysis, Slot
from agent_service.progress import ProgressEvent

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
    progress: list[StepLine] = Field(default_factory=list, max_length=MAX_PROGRESS_LINES)


class JobRecord:
    """The running job as this process writes it: each progress event and the final state rewrite
    the whole record in one SET (state and progress are never apart), one write at a time, so a
    slower write never lands over a newer one."""

    def __init__(self, redis: aioredis.Redis, job: AskJob) -> None:
        self.redis = redis
        self.job = job
        self._lock = asyncio.Lock()

    async def save(self) -> None:
        await self.redis.set(ask_key(self.job.id), self.job.model_dump_json(), ex=JOB_TTL_S)

    async def progress(self, event: ProgressEvent) -> None:
        async with self._lock:  # folded under the lock: concurrent specialists never lose a line
            self.job = self.job.model_copy(update={"progress": advance(self.job.progress, event)})
            await self.save()

    async def finish(self, **update: object) -> None:
        async with self._lock:
            at = time.time()
            if update.get("status") == "failed":
                update["progress"] = stopped(self.job.progress, "stopped with the analysis", at=at)
            self.job = self.job.model_copy(update={"finished_at": at, **update})
            await self.save()


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

    async def start(self, redis: aioredis.Redis, analyzer: Analysis, slot: Slot, request: AnalyzeRequest,
                    *, by: str) -> AskJob:
        """Store the job as running and run it in the background under `slot` (already taken)."""
        record = JobRecord(redis, AskJob(id=secrets.token_urlsafe(12), by=by, request=request, started_at=time.time()))
        await record.save()
        job = record.job
        task = asyncio.create_task(self._run(record, analyzer, slot), name=f"console-ask-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def _run(self, record: JobRecord, analyzer: Analysis, slot: Slot) -> None:
        try:
            async with slot:
                report = await asyncio.wait_for(analyzer.analyze(record.job.request, progress=record.progress),
                                                self.timeout_s)
        except TimeoutError:
            await record.finish(status="failed", error=f"the analysis took longer than {self.timeout_s:g}s")
        except Exception as exc:  # noqa: BLE001 - shown on the job's page
            log.exception("console analysis %s failed", record.job.id)
            await record.finish(status="failed", error=f"{type(exc).__name__}: {str(exc)[:300]}")
        else:
            await record.finish(status="done", report_id=report.id)

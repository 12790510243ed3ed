"""Worker processes that parse big bodies (CPU bound: threads would share one GIL)."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def _warm() -> None:
    import ingestion_service.ingest.pipeline  # noqa: F401 - import once per worker at start-up


class ParsePool:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))

    async def warm(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self.executor, _warm) for _ in range(self.workers)))

    def replace(self) -> None:
        broken, self.executor = self.executor, self._new()
        broken.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


async def start_pool(workers: int) -> ParsePool | None:
    if workers <= 0:
        return None
    pool = ParsePool(workers)
    await pool.warm()
    return pool

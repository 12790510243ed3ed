"""Worker processes that parse big bodies (CPU bound: threads would share one GIL)."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT_S = 10.0
KILL_WAIT_S = 10.0  # a SIGKILLed worker is gone at once; a busy machine may take a while to show it


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

    def shutdown(self, timeout_s: float = SHUTDOWN_TIMEOUT_S) -> None:
        """Queued work cancelled, the workers joined for at most `timeout_s`, then terminated (and
        killed): a worker stuck on a body, or one the machine is too busy to schedule, must not
        hold the service's shutdown forever (`shutdown(wait=True)` alone can)."""
        executor = self.executor
        # the executor's own processes (a private attribute, read-only here; None once shut down)
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + timeout_s
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes:
            if alive(process):
                log.warning("parse worker %s did not stop in %.0f s: terminated", process.pid, timeout_s)
                process.terminate()
                process.join(2.0)
                if alive(process):
                    process.kill()
                    _reap(process, KILL_WAIT_S)


def alive(process: BaseProcess) -> bool:
    """Whether a worker still runs. `is_alive()` alone can say yes for a child already reaped by
    another waiter (its waitpid then finds no child and learns no exit code): then no process of
    that pid exists any more."""
    if not process.is_alive():
        return False
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def _reap(process: BaseProcess, wait_s: float) -> None:
    """Wait, bounded, until a killed worker is gone (one join can return before its exit is seen)."""
    deadline = time.monotonic() + wait_s
    while alive(process) and time.monotonic() < deadline:
        process.join(0.1)


async def start_pool(workers: int) -> ParsePool | None:
    if workers <= 0:
        return None
    pool = ParsePool(workers)
    await pool.warm()
    return pool

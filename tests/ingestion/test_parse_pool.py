"""The parse pool's shutdown is bounded: a worker stuck on a body is terminated, not waited for."""

from __future__ import annotations

import time

from ingestion_service.parse_pool import ParsePool, alive


def test_shutdown_terminates_a_worker_stuck_in_its_task() -> None:
    pool = ParsePool(1)
    stuck = pool.executor.submit(time.sleep, 600)
    while not stuck.running():  # the spawned worker has picked the task up
        time.sleep(0.05)
    [process] = pool.executor._processes.values()  # noqa: SLF001 - what shutdown must stop
    pool.shutdown(timeout_s=0.5)
    assert not alive(process)


def test_shutdown_of_an_idle_pool_joins_its_workers() -> None:
    pool = ParsePool(2)
    assert pool.executor.submit(sum, [1, 2]).result(timeout=60) == 3
    processes = list(pool.executor._processes.values())  # noqa: SLF001
    pool.shutdown()
    assert processes and not any(alive(p) for p in processes)

"""Alert intake benchmark: POST /alerts on a real agent-service process over a real redis-server.

Measures (1) the 202 latency of new deliveries (each a new Alertmanager group → a new incident id,
an atomic dedup + XADD), (2) the latency of duplicate deliveries, both with 16 concurrent clients,
and (3) how fast the background worker turns the queued deliveries into incidents (created,
analysed by the rules engine with ingestion unreachable, `opened` notification sent to a
recording notifier). `python -m bench alerts --count=200` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from typing import Any

import httpx

from tests.agent.incidents.support import FakeNotifier
from tests.support.redis_proc import RedisProcess
from tests.support.servers import ServiceProcess, serve_app

CONCURRENCY = 16


def delivery(n: int) -> dict[str, Any]:
    labels = {"alertname": "BenchAlert", "backend": f"be_{n}", "severity": "warning"}
    return {
        "version": "4", "groupKey": f'{{}}:{{backend="be_{n}"}}', "truncatedAlerts": 0, "status": "firing",
        "receiver": "bench", "groupLabels": {"backend": f"be_{n}"}, "commonLabels": labels,
        "commonAnnotations": {}, "externalURL": "http://am",
        "alerts": [{"status": "firing", "labels": labels, "annotations": {}, "startsAt": "2026-11-22T14:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": f"{n:016x}"}],
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def post_all(url: str, token: str, bodies: list[dict[str, Any]]) -> tuple[list[float], float, list[Any]]:
    latencies: list[float] = []
    answers: list[Any] = []
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    async with httpx.AsyncClient(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post("/alerts", json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 202:
                    raise RuntimeError(f"/alerts answered {response.status_code}: {response.text[:200]}")
                answers.append(response.json())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        wall = time.perf_counter() - started
    return latencies, wall, answers


def report(name: str, latencies: list[float], wall: float) -> None:
    print(f"{name}: {len(latencies)} in {wall:.2f}s = {len(latencies) / wall:.0f}/s; latency p50 "
          f"{statistics.median(latencies):.1f} ms, p95 {pct(latencies, 95):.1f} ms, p99 {pct(latencies, 99):.1f} ms, "
          f"max {max(latencies):.1f} ms")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench alerts")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--no-worker", action="store_true", help="intake only (ALERT_WORKER_ENABLED=false)")
    args = parser.parse_args(argv)
    redis_proc = RedisProcess("/usr/bin/redis-server").start()
    notifier = FakeNotifier()
    token = secrets.token_hex(8)
    agent: ServiceProcess | None = None
    try:
        with serve_app(notifier.app) as notifier_url:
            agent = ServiceProcess("agent-service", {
                "REDIS_URL": redis_proc.url, "NOTIFIER_URL": notifier_url, "ALERTS_TOKEN": token,
                "LLM_ENGINE": "rules", "INGESTION_URL": "http://127.0.0.1:9", "LOG_LEVEL": "WARNING",
                "API_TOKEN": "", "ANTHROPIC_API_KEY": "",
                "ALERT_WORKER_ENABLED": "false" if args.no_worker else "true"}).start()
            bodies = [delivery(n) for n in range(args.count)]
            started = time.perf_counter()
            latencies, wall, answers = asyncio.run(post_all(agent.url, token, bodies))
            report("new deliveries (202)", latencies, wall)
            assert all(not a["duplicate"] for a in answers)
            latencies, wall, answers = asyncio.run(post_all(agent.url, token, bodies))
            report("duplicate deliveries (202)", latencies, wall)
            assert all(a["duplicate"] for a in answers)
            if args.no_worker:
                return
            deadline = time.monotonic() + 600
            while len(notifier.calls) < args.count and time.monotonic() < deadline:
                time.sleep(0.1)
            done = time.perf_counter() - started
            print(f"processed: {len(notifier.calls)} incidents opened, analysed and notified "
                  f"{done:.1f}s after the first POST = {len(notifier.calls) / done:.1f} incidents/s")
    finally:
        if agent is not None:
            agent.stop()
        redis_proc.stop()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

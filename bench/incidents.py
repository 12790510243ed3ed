"""Incident list benchmark (issue 14 finding 6): `GET /incidents` on a real agent-service process
over a real redis-server, with `--big` incidents whose alert labels hit the 4 KiB intake cap (sent
through POST /alerts) among `--seeded` small ones (written through IncidentStore, mixed statuses
and severities). Rounds of `--concurrent` simultaneous reads — unfiltered, by status, by severity,
both, a small page — while small alerts keep arriving; then `--search-rounds` of `q=` searches. Prints
the list latency p50/p95 per kind, the agent's RSS idle and at its peak, and the POST /alerts
answers during the reads (one every 50 ms at most: a steady Alertmanager). `python -m bench
incidents --seeded=1000 --rounds=2` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import redis.asyncio as aioredis

from agent_service.incidents.models import Incident, IncidentSeverity, IncidentStatus
from agent_service.incidents.store import IncidentStore
from tests.agent.incidents.support import FakeNotifier
from tests.hardening import list_load as load
from tests.hardening.procs import processes
from tests.support.redis_proc import RedisProcess
from tests.support.servers import ServiceProcess, serve_app

FIRST_SEEDED = 100_000  # ids of the seeded incidents (the agent's own sequence stays far below)


async def seed(redis_url: str, count: int) -> None:
    """`count` small incidents, a day old and older, statuses and severities mixed."""
    client = aioredis.Redis.from_url(redis_url)
    store = IncidentStore(client)
    statuses, severities = list(IncidentStatus), get_args(IncidentSeverity)
    start = datetime.now(UTC) - timedelta(days=1)
    try:
        for n in range(count):
            at = start - timedelta(seconds=n)
            await store.create(Incident(id=FIRST_SEEDED + n, title=f"seeded incident {n} on be_{n % 40}",
                                        status=statuses[n % 4], severity=severities[n % 3],
                                        created_at=at, updated_at=at))
    finally:
        await client.aclose()


def kind(params: dict[str, Any]) -> str:
    name = "+".join(k for k in ("q", "status", "severity") if k in params) or "unfiltered"
    return f"{name} (limit {params['limit']})"


def report(title: str, result: load.LoadResult, idle_kib: int, peak_kib: int) -> None:
    print(f"{title}: {len(result.lists)} list reads; agent RSS idle {idle_kib / 1024:.1f} MB, "
          f"peak {peak_kib / 1024:.1f} MB")
    by_kind: dict[str, list[float]] = defaultdict(list)
    for answer in result.lists:
        by_kind[kind(answer.params)].append(answer.ms)
    print(f"  all: p50 {statistics.median(result.list_ms):.1f} ms, p95 {load.pct(result.list_ms, 95):.1f} ms")
    for name, values in sorted(by_kind.items()):
        print(f"  {name}: n={len(values)}, p50 {statistics.median(values):.1f} ms, p95 {load.pct(values, 95):.1f} ms")
    failed = [a for a in result.lists if a.status != 200]
    codes = sorted(set(result.alert_statuses))
    print(f"  non-200 list answers: {len(failed)}; POST /alerts during the reads: {len(result.alert_statuses)}, "
          f"answers {codes}, p50 {statistics.median(result.alert_ms or [0]):.1f} ms")


def run(args: argparse.Namespace, agent: ServiceProcess, redis_url: str) -> None:
    assert agent.proc is not None
    asyncio.run(seed(redis_url, args.seeded))
    big = load.store_big_incidents(agent.url, redis_url, args.big)
    status = next(iter(big.values()))["status"]
    print(f"stored: {args.big} big incidents ({status}, alert labels cut at 4 KiB) among {args.seeded} seeded")
    searches = [{"q": "be_3", "limit": 20}, {"q": "ListLoad", "status": status, "limit": 20},
                {"q": "seeded", "severity": "info", "limit": 20}]
    phases = [("lists", load.list_reads(status, args.concurrent), args.rounds, 1000),
              ("q= searches", [searches[i % len(searches)] for i in range(args.concurrent)], args.search_rounds,
               50_000)]
    for params in load.list_reads(status, 6) + searches:  # one at a time, nothing else arriving
        alone = asyncio.run(load.reads_during_alerts(agent.url, [params], rounds=20, alert_cap=0))
        print(f"alone, {kind(params)}: p50 {statistics.median(alone.list_ms):.1f} ms, "
              f"p95 {load.pct(alone.list_ms, 95):.1f} ms (20 sequential)")
    for name, reads, rounds, first_alert in phases:
        idle = load.rss_kib(agent.proc.pid)
        with load.rss_peak(agent.proc.pid) as peak:
            result = asyncio.run(load.reads_during_alerts(agent.url, reads, rounds=rounds, first_alert=first_alert,
                                                          alert_cap=10_000))
        report(f"{rounds} x {args.concurrent} concurrent {name}", result, idle, peak[0])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench incidents")
    parser.add_argument("--big", type=int, default=10)
    parser.add_argument("--seeded", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--search-rounds", type=int, default=1)
    parser.add_argument("--concurrent", type=int, default=30)
    args, _ = parser.parse_known_args(argv)  # `make bench` passes every benchmark's options to each
    redis_proc = RedisProcess("/usr/bin/redis-server").start()
    notifier = FakeNotifier()
    try:
        with serve_app(notifier.app) as notifier_url, processes() as start:
            agent = start("agent-service", {
                "REDIS_URL": redis_proc.url, "NOTIFIER_URL": notifier_url, "INGESTION_URL": "http://127.0.0.1:9",
                "LLM_ENGINE": "rules", "API_TOKEN": load.TOKEN, "ALERTS_TOKEN": load.TOKEN, "LOG_LEVEL": "WARNING",
                "ANTHROPIC_API_KEY": ""})
            run(args, agent, redis_proc.url)
    finally:
        redis_proc.stop()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

"""Notifier benchmark: N notifications → HTTP → real notifier-service → real redis-server → aiosmtpd sink.

The service runs as its own process (the `notifier-service` console script), the SMTP sink
(aiosmtpd) in this process. Burst: all N are POSTed as fast as 16 concurrent clients can, and the
run ends when the sink holds all N. Paced: a smaller run at a fixed rate, for latency without a
backlog. Prints notifications/s delivered and delivery latency percentiles, both end to end
(POST sent → message in the sink) and as the service measures it (queued → accepted by SMTP).
`python -m bench notifier --count 500` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from tests.support.net import free_port, wait_for_port

TOKEN = "bench-token"
ID_HEADER = re.compile(rb"^X-Oncall-Notification-Id: ([0-9a-f]+)\r?$", re.MULTILINE)


class Sink:
    """Records when each notification's email arrived (time.time(), comparable with the service's)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.duplicates = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        match = ID_HEADER.search(envelope.original_content)
        with self.lock:
            if match is None:
                return "550 no notification id"
            ident = match.group(1).decode()
            if ident in self.arrived:
                self.duplicates += 1
            else:
                self.arrived[ident] = now
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.arrived)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def post_all(url: str, count: int, *, tag: str, rate: float | None, concurrency: int = 16) -> dict[str, float]:
    """POST `count` notifications; returns id → time.time() just before its POST was sent."""
    started: dict[str, float] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    t0 = time.monotonic()

    async def client_loop(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            if rate:
                await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            body = {
                "idempotency_key": f"{tag}-{i}", "incident_id": f"{tag}-{i}", "event": "opened",
                "severity": "critical" if i % 5 == 0 else "warning", "title": f"High 5xx rate on be_api ({i})",
                "summary": "5xx rate 23% over 5 minutes; p95 1.8 s.",
                "report_markdown": "| specialist | severity | summary |\n|---|---|---|\n| errors | critical | 23% 5xx |\n\n1. Drain app2\n",
                "url": f"https://copilot.example/incidents/{i}",
            }
            sent = time.time()
            response = await client.post("/notify", json=body)
            if response.status_code != 202:
                raise RuntimeError(f"POST /notify answered {response.status_code}: {response.text}")
            started[response.json()["id"]] = sent

    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency if not rate else 4)))
    return started


def service_latencies(url: str, ids: list[str]) -> list[float]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    out = []
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        for ident in ids:
            view = client.get(f"/notifications/{ident}").json()
            out.append(view["sent_at"] - view["created_at"])
    return out


def run(url: str, sink: Sink, count: int, *, tag: str, rate: float | None, timeout: float) -> None:
    before = sink.count()
    t0 = time.time()
    started = asyncio.run(post_all(url, count, tag=tag, rate=rate))
    accepted = time.time() - t0
    during = sink.count() - before
    deadline = time.monotonic() + timeout
    while sink.count() - before < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {sink.count() - before} of {count} delivered after {timeout}s")
        time.sleep(0.01)
    with sink.lock:
        arrived = {k: sink.arrived[k] for k in started}
    elapsed = max(arrived.values()) - t0
    e2e = [arrived[k] - started[k] for k in started]
    svc = service_latencies(url, list(started))
    mode = f"paced {rate:g}/s" if rate else "burst"
    print(f"{mode}: {count} notifications; POSTs accepted in {accepted:.2f} s ({count / accepted:,.0f}/s)")
    print(
        f"  delivered: {count / elapsed:,.0f} notifications/s (all {count} in the sink after {elapsed:.2f} s, "
        f"{during} of them while the POSTs were still coming); duplicates: {sink.duplicates}"
    )
    print(
        "  latency end to end (POST → sink): "
        f"p50 {percentile(e2e, 0.5) * 1000:,.0f} ms, p95 {percentile(e2e, 0.95) * 1000:,.0f} ms, p99 {percentile(e2e, 0.99) * 1000:,.0f} ms"
    )
    print(
        "  latency in the service (queued → SMTP accepted): "
        f"p50 {percentile(svc, 0.5) * 1000:,.0f} ms, p95 {percentile(svc, 0.95) * 1000:,.0f} ms, max {max(svc) * 1000:,.0f} ms"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench notifier")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4, help="WORKER_CONCURRENCY of the service")
    parser.add_argument("--paced-count", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="notifications/s of the paced run (0 = skip)")
    args = parser.parse_args(argv)

    redis_bin = shutil.which("redis-server") or "/usr/bin/redis-server"
    exe = Path(sys.executable).parent / "notifier-service"
    workdir = Path(tempfile.mkdtemp(prefix="bench-notifier-"))
    redis_port, http_port = free_port(), free_port()
    redis_proc = subprocess.Popen(
        [redis_bin, "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", str(workdir), "--save", "",
         "--appendonly", "yes", "--appendfsync", "everysec"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    env = {
        **os.environ, "HOST": "127.0.0.1", "PORT": str(http_port), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(controller.port), "SMTP_TLS": "none",
        "EMAIL_FROM": "copilot@oncall.example", "EMAIL_TO": "oncall@example.com", "NOTIFIER_TOKEN": TOKEN,
        "WORKER_CONCURRENCY": str(args.concurrency), "LOG_LEVEL": "WARNING", "POLL_INTERVAL_SECONDS": "0.5",
    }
    log = open(workdir / "service.log", "wb")  # noqa: SIM115 - closed below
    service = subprocess.Popen([str(exe)], env=env, stdout=log, stderr=log)
    try:
        wait_for_port(redis_port)
        wait_for_port(http_port)
        url = f"http://127.0.0.1:{http_port}"
        print(f"notifier-service (WORKER_CONCURRENCY={args.concurrency}) → redis-server (AOF everysec) → aiosmtpd sink, loopback")
        run(url, sink, args.count, tag="burst", rate=None, timeout=600)
        if args.rate > 0 and args.paced_count > 0:
            run(url, sink, args.paced_count, tag="paced", rate=args.rate, timeout=600)
    finally:
        service.terminate()
        try:
            service.wait(timeout=15)
        except subprocess.TimeoutExpired:
            service.kill()
        log.close()
        controller.stop()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])

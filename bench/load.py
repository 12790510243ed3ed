"""Load: sustained ingestion at a target rate while /analyze (rules engine) runs every few seconds.

Real redis-server, ingestion-service process(es) and an agent-service process on loopback. A paced
sender posts HAProxy httplog batches stamped with the current time (so the newest line of each
batch is "now" when it is sent); an analyzer posts /analyze every `--analyze-every` seconds.
Prints achieved lines/s, errors, ingestion lag (send → durable acknowledgement, and how far the
sender fell behind its schedule), /analyze durations against the analysis deadline, and checks
that every acknowledged line is counted once.

    python -m bench load [--seconds=60] [--rate=50000] [--batch=10000] [--replicas=2]
                         [--in-flight=4] [--analyze-every=2]
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import threading
import time

import httpx

from tests.support.redis_proc import RedisProcess
from tests.support.servers import ServiceProcess

LINE = ("10.0.{a}.{b}:{port} [@TS@.{ms:03d}] fe_main {backend}/{server} 0/0/1/{tr}/{ta} {status} {size} - - "
        "---- 120/110/{bc}/{sc}/0 0/0 \"GET {path} HTTP/1.1\"")
BACKENDS = {"be_api": ("api1", "api2", "api3"), "be_web": ("web1", "web2"), "be_auth": ("auth1",)}
PATHS = [f"/api/v1/items/{i}" for i in range(40)] + ["/", "/login", "/static/app.js"]
CODES = [200] * 92 + [404] * 4 + [500, 503, 502, 301]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _options(argv: list[str]) -> dict[str, float]:
    opts = {"seconds": 60.0, "rate": 50_000.0, "batch": 10_000.0, "replicas": 2.0, "in-flight": 4.0,
            "analyze-every": 2.0}
    for arg in argv:
        name, _, value = arg.lstrip("-").partition("=")
        if name in opts and value:
            opts[name] = float(value)
    return opts


def template(size: int, seed: int) -> str:
    """One batch with `@TS@` where the accept date goes (stamped per batch with str.replace)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(size):
        backend = rng.choice(list(BACKENDS))
        ta = int(rng.lognormvariate(3.5, 0.8))
        lines.append(LINE.format(a=rng.randrange(256), b=rng.randrange(256), port=rng.randrange(1024, 65535),
                                 ms=rng.randrange(1000), backend=backend, server=rng.choice(BACKENDS[backend]),
                                 tr=max(0, ta - 3), ta=ta, status=rng.choice(CODES), size=rng.randrange(100, 9000),
                                 bc=rng.randrange(40), sc=rng.randrange(20), path=rng.choice(PATHS)))
    return "\n".join(lines)


def stamp(epoch: float) -> str:
    t = time.gmtime(epoch)
    return f"{t.tm_mday:02d}/{MONTHS[t.tm_mon - 1]}/{t.tm_year:04d}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Results:
    def __init__(self) -> None:
        self.acked_lines = 0
        self.batches = 0
        self.errors: dict[str, int] = {}
        self.post_ms: list[float] = []
        self.behind_s: list[float] = []
        self.analyze_ms: list[float] = []
        self.analyze_server_ms: list[float] = []
        self.analyze_errors: dict[str, int] = {}
        self.analyze_degraded = 0

    def error(self, where: dict[str, int], kind: str) -> None:
        where[kind] = where.get(kind, 0) + 1


async def send(urls: list[str], opts: dict[str, float], res: Results, templates: list[str]) -> float:
    batch, rate, seconds = int(opts["batch"]), opts["rate"], opts["seconds"]
    total = int(rate * seconds // batch)
    interval = batch / rate
    gate = asyncio.Semaphore(int(opts["in-flight"]))
    limits = httpx.Limits(max_connections=int(opts["in-flight"]) * len(urls))
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        started = time.monotonic()

        async def one(k: int) -> None:
            async with gate:
                now = time.time()
                res.behind_s.append(max(0.0, time.monotonic() - (started + k * interval)))
                body = templates[k % len(templates)].replace("@TS@", stamp(now))
                sent = time.monotonic()
                try:
                    r = await client.post(urls[k % len(urls)] + "/logs", content=body,
                                          headers={"Content-Type": "text/plain", "Idempotency-Key": f"load-{k}"})
                except httpx.HTTPError as exc:
                    res.error(res.errors, type(exc).__name__)
                    return
                res.post_ms.append((time.monotonic() - sent) * 1000)
                if r.status_code == 202:
                    res.acked_lines += r.json()["accepted"]
                    res.batches += 1
                else:
                    res.error(res.errors, str(r.status_code))

        tasks = []
        for k in range(total):
            delay = started + k * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(k)))
            tasks = [t for t in tasks if not t.done()] if k % 50 == 0 else tasks
        await asyncio.gather(*tasks)
        return time.monotonic() - started


def analyze_loop(url: str, every: float, stop: threading.Event, res: Results) -> None:
    with httpx.Client(timeout=180) as client:
        while not stop.is_set():
            began = time.monotonic()
            try:
                r = client.post(url + "/analyze", json={"window": "5m"})
                res.analyze_ms.append((time.monotonic() - began) * 1000)
                if r.status_code == 200:
                    report = r.json()
                    res.analyze_server_ms.append(report["duration_ms"])
                    if any(f["status"] != "completed" for f in report["findings"]) or \
                            any(v != "ok" for v in report["sources"].values()):
                        res.analyze_degraded += 1
                else:
                    res.error(res.analyze_errors, str(r.status_code))
            except httpx.HTTPError as exc:
                res.error(res.analyze_errors, type(exc).__name__)
            stop.wait(max(0.0, every - (time.monotonic() - began)))


def main(argv: list[str]) -> None:
    opts = _options(argv)
    replicas = int(opts["replicas"])
    print(f"load: {opts['rate']:.0f} lines/s for {opts['seconds']:.0f} s in batches of {opts['batch']:.0f}, "
          f"{replicas} ingestion replica(s), {opts['in-flight']:.0f} batches in flight, "
          f"/analyze every {opts['analyze-every']:g} s; {os.cpu_count()} cores", flush=True)
    redis = RedisProcess(shutil.which("redis-server") or "/usr/bin/redis-server").start()
    procs: list[ServiceProcess] = []
    try:
        quiet = {"LOG_LEVEL": "WARNING", "REDIS_URL": redis.url}
        ingestion = [ServiceProcess("ingestion-service", quiet).start() for _ in range(replicas)]
        procs += ingestion
        agent = ServiceProcess("agent-service", {**quiet, "LLM_ENGINE": "rules", "ALERT_WORKER_ENABLED": "false",
                                                 "INGESTION_URL": ingestion[0].url}).start()
        procs.append(agent)
        deadline_s = 60.0 + 60.0  # SPECIALIST_DEADLINE_S + SYNTHESIS_DEADLINE_S defaults
        templates = [template(int(opts["batch"]), seed) for seed in range(4)]
        res = Results()
        stop = threading.Event()
        analyzer = threading.Thread(target=analyze_loop, args=(agent.url, opts["analyze-every"], stop, res))
        load_before = os.getloadavg()[0]
        analyzer.start()
        wall = asyncio.run(send([p.url for p in ingestion], opts, res, templates))
        stop.set()
        analyzer.join(timeout=200)
        load_after = os.getloadavg()[0]
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
        counted = httpx.get(ingestion[0].url + "/metrics/overview", params={"window": "1h", "end": end},
                            timeout=60).json()["total_requests"]
        mem = redis.client().info("memory")["used_memory_human"]

        print(f"ingestion: {res.acked_lines} lines acknowledged in {wall:.1f} s = {res.acked_lines / wall:,.0f} lines/s "
              f"(target {opts['rate']:,.0f}); {res.batches} batches; errors {res.errors or 'none'}")
        print(f"  counted by the queries afterwards: {counted} ({'exact' if counted == res.acked_lines else 'MISMATCH'})")
        print(f"  POST /logs latency (send → durable ack, = lag of the newest line): p50 {pct(res.post_ms, .5):.0f} ms, "
              f"p95 {pct(res.post_ms, .95):.0f} ms, max {max(res.post_ms, default=float('nan')):.0f} ms")
        print(f"  sender behind schedule: p95 {pct(res.behind_s, .95):.2f} s, max {max(res.behind_s, default=0):.2f} s")
        print(f"/analyze (rules, window 5m): {len(res.analyze_ms)} runs, p50 {pct(res.analyze_ms, .5):.0f} ms, "
              f"p95 {pct(res.analyze_ms, .95):.0f} ms, max {max(res.analyze_ms, default=float('nan')):.0f} ms "
              f"(deadline {deadline_s:.0f} s; interval {opts['analyze-every']:g} s); "
              f"server-side median {statistics.median(res.analyze_server_ms) if res.analyze_server_ms else float('nan'):.0f} ms; "
              f"errors {res.analyze_errors or 'none'}; degraded {res.analyze_degraded}")
        print(f"redis used memory {mem}; load average {load_before:.1f} before, {load_after:.1f} after", flush=True)
    finally:
        for proc in reversed(procs):
            proc.stop()
        redis.stop()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

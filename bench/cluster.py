"""Redis Cluster benchmark: the same HAProxy lines → HTTP → real ingestion-service processes, on a
standalone redis-server and on a real 6-node Redis Cluster (3 masters + 3 replicas, loopback), in
one run: lines/s with 1 and 2 ingestion replicas on each, Redis memory per 1M requests, and the
query latencies (medians) cluster against standalone.
`python -m bench cluster --lines 200000` for a quick run; `--hours 24` spreads the lines over a whole
24 h window (every hour tag read).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import redis

from bench.ingestion import END, batches, generate, post_all
from tests.support.net import free_port, wait_for_port
from tests.support.redis_cluster import RedisClusterProcesses

WINDOWS = ("15m", "1h", "24h")
QUERIES = ("overview", "response-times", "backends", "frontends", "breakdown")


def _binary(name: str) -> str:
    path = shutil.which(name) or f"/usr/bin/{name}"
    if not os.path.exists(path):
        raise SystemExit(f"{name} not installed")
    return path


class Services:
    """`n` ingestion-service processes on one Redis (REDIS_URL or REDIS_CLUSTER_URLS)."""

    def __init__(self, env: dict[str, str], n: int) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []
        exe = Path(sys.executable).parent / "ingestion-service"
        for _ in range(n):
            port = free_port()
            self.procs.append(subprocess.Popen(
                [str(exe)], env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "WARNING",
                                 "MAX_BODY_BYTES": str(64 * 1024 * 1024), **env},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_for_port(port, timeout=30)
            self.urls.append(f"http://127.0.0.1:{port}")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=15)


def post_split(urls: list[str], bodies: list[bytes], workers: int) -> float:
    """The bodies dealt round-robin to the replicas, `workers` connections in all; wall seconds."""
    shares = [bodies[i::len(urls)] for i in range(len(urls))]
    times: list[float] = []
    started = time.perf_counter()
    threads = [threading.Thread(target=lambda u=u, s=s: times.append(post_all(u, s, max(1, workers // len(urls)))))
               for u, s in zip(urls, shares)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(times) != len(urls):
        raise RuntimeError("a sender failed")
    return time.perf_counter() - started


def _median_ms(fn: Callable[[], None], samples: int) -> float:
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1000


def query_medians(url: str, samples: int) -> dict[tuple[str, str], float]:
    out = {}
    with httpx.Client(base_url=url, timeout=120) as client:
        for window in WINDOWS:
            for name in QUERIES:
                params = {"window": window, "end": END}
                if name == "breakdown":
                    params["baseline"] = "24h" if window != "15m" else "60m"

                def get(path: str = f"/metrics/{name}", params: dict[str, str] = params) -> None:
                    client.get(path, params=params).raise_for_status()

                get()  # warm
                out[(window, name)] = _median_ms(get, samples)
    return out


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    parser = argparse.ArgumentParser(prog="bench cluster")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=4, help="client connections in all")
    parser.add_argument("--samples", type=int, default=7, help="runs of each query (median)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--hours", type=int, default=1, choices=range(1, 25), metavar="1..24",
                        help="the lines spread over this many hours before END (24: every minute of a 24h window)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    path = work / "haproxy.log"
    generate(path, args.lines, args.seed, hours=args.hours)
    bodies = batches(path, args.batch)
    redis_port = free_port()
    standalone = subprocess.Popen(
        [_binary("redis-server"), "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cluster = RedisClusterProcesses(_binary("redis-server"), _binary("redis-cli"))
    try:
        wait_for_port(redis_port)
        cluster.start()
        single = redis.Redis(port=redis_port)
        targets = {"standalone": {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"},
                   "cluster": {"REDIS_CLUSTER_URLS": cluster.urls},
                   "cluster, WAIT 1": {"REDIS_CLUSTER_URLS": cluster.urls, "REDIS_WAIT_REPLICAS": "1"}}

        def flush() -> None:
            single.flushall()
            cluster.flushall()

        def used(name: str) -> int:
            if name == "standalone":
                info = single.info("memory")
                return int(info["used_memory"]) - int(info.get("mem_clients_normal", 0))
            total = 0
            for port in cluster.master_ports():
                info = cluster.node(port).info("memory")
                total += int(info["used_memory"]) - int(info.get("mem_clients_normal", 0))
            return total

        print(f"{args.lines:,} lines over {args.hours} hour(s), batches of {args.batch:,}, {args.workers} client connections; "
              f"load average {os.getloadavg()[0]:.1f} at start, {os.cpu_count()} cores")
        speeds: dict[tuple[str, int], float] = {}
        memory: dict[str, int] = {}
        for name, env in targets.items():
            for replicas in (1, 2):
                flush()
                time.sleep(0.3)
                empty = used(name)
                services = Services(env, replicas)
                try:
                    load = os.getloadavg()[0]
                    elapsed = post_split(services.urls, bodies, args.workers)
                    speeds[(name, replicas)] = args.lines / elapsed
                    total = httpx.get(services.urls[0] + "/metrics/overview", params={"window": f"{args.hours + 1}h" if args.hours < 24 else "24h", "end": END},
                                      timeout=60).json()["total_requests"]
                    if total != args.lines:
                        raise RuntimeError(f"{name}: counted {total} of {args.lines}")
                    memory[name] = used(name) - empty
                    print(f"  {name:16s} {replicas} replica{'s' if replicas > 1 else ' '}: "
                          f"{speeds[(name, replicas)]:>9,.0f} lines/s ({elapsed:.2f}s, load average {load:.1f} before)")
                finally:
                    services.stop()
        for name, m in memory.items():
            print(f"  memory {name}: {m / 1e6:.2f} MB over empty for {args.lines:,} requests = "
                  f"{m / args.lines:.2f} MB per 1M requests (masters only; a replica holds as much again)")
        print(f"  query medians in ms ({args.samples} runs each, over the {args.lines:,} lines); "
              f"load average {os.getloadavg()[0]:.1f}")
        flush()
        medians = {}
        for name in ("standalone", "cluster"):  # the same lines on each, then the same queries
            services = Services(targets[name], 1)
            try:
                post_split(services.urls, bodies, args.workers)
                medians[name] = query_medians(services.urls[0], args.samples)
            finally:
                services.stop()
        for window in WINDOWS:
            parts = [f"{q} {medians['standalone'][(window, q)]:.1f} → {medians['cluster'][(window, q)]:.1f} "
                     f"({medians['cluster'][(window, q)] / medians['standalone'][(window, q)]:.2f}x)" for q in QUERIES]
            print(f"  window {window}: standalone → cluster: " + ", ".join(parts))
    finally:
        standalone.terminate()
        standalone.wait(timeout=15)
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Ingestion benchmark: realistic HAProxy lines → HTTP → real ingestion-service → real redis-server.

Prints lines/s end to end, CPU per line, Redis memory (used_memory over an empty server, Ta and
Tr sketches included) for N lines over one hour and for 2N lines over the same hour, the same
file through mtail one-shot for a ratio, and the query latencies (GET /metrics/breakdown p50/p95).
`python -m bench ingestion --lines 200000` for a quick run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import redis
from tests.support.net import free_port, wait_for_port

START = 1_795_352_400  # 2026-11-22T13:00:00Z
END = "2026-11-22T14:00:00Z"  # START + 1 hour
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# backend: (frontend, servers, median Ta ms, sigma, 5xx share)
BACKENDS = {
    "be_web": ("fe_www", 4, 35, 0.7, 0.004),
    "be_static": ("fe_www", 3, 3, 0.6, 0.0005),
    "be_api": ("fe_api", 4, 60, 0.9, 0.01),
    "be_auth": ("fe_api", 2, 25, 0.5, 0.003),
    "be_search": ("fe_api", 3, 140, 1.0, 0.02),
}
WEIGHTS = [0.35, 0.25, 0.25, 0.08, 0.07]
PATHS = ["/", "/index.html", "/api/v1/orders", "/api/v1/users/42", "/static/app.js", "/login", "/search?q=x"]


def generate(path: Path, lines: int, seed: int, *, hours: int = 1) -> None:
    """`lines` syslog-framed httplog lines spread over the `hours` before END, in time order."""
    rng = random.Random(seed)
    names = list(BACKENDS)
    step = 3600.0 * hours / lines
    first = START + 3600 - 3600 * hours
    with path.open("w") as out:
        buf = []
        for i in range(lines):
            t = first + i * step
            sec = int(t)
            tm = time.gmtime(sec)
            date = (f"{tm.tm_mday:02d}/{MONTHS[tm.tm_mon - 1]}/{tm.tm_year}:{tm.tm_hour:02d}:{tm.tm_min:02d}:"
                    f"{tm.tm_sec:02d}.{int((t - sec) * 1000):03d}")
            be = rng.choices(names, WEIGHTS)[0]
            fe, nsrv, median, sigma, p5xx = BACKENDS[be]
            r = rng.random()
            if r < p5xx:
                status = rng.choice((500, 502, 503, 504))
            elif r < p5xx + 0.03:
                status = 404
            elif r < p5xx + 0.05:
                status = 304
            else:
                status = 200
            srv = f"{be}_{rng.randrange(nsrv) + 1}"
            ta = max(0, int(rng.lognormvariate(math.log(median), sigma)))
            tr = rng.randint(0, 3)
            tw = 0 if rng.random() < 0.97 else rng.randint(1, 50)
            term = "----" if rng.random() < 0.995 else rng.choice(("CD--", "SH--", "cD--", "sH--"))
            act = 100 + int(50 * math.sin(i / lines * 6.28)) + rng.randint(0, 20)
            buf.append(
                f"<134>{MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} "
                f"haproxy[4242]: 10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}:"
                f"{rng.randint(1024, 65535)} [{date}] {fe} {be}/{srv} {tr}/{tw}/1/{max(0, ta - tr - 1)}/{ta} "
                f"{status} {rng.randint(200, 20000)} - - {term} {act}/{act - 5}/{act // 5}/{act // 20}/0 "
                f"{0 if tw == 0 else rng.randint(0, 3)}/0 \"{rng.choice(('GET', 'GET', 'POST'))} "
                f"{rng.choice(PATHS)} HTTP/1.1\"\n"
            )
            if len(buf) >= 10000:
                out.write("".join(buf))
                buf.clear()
        out.write("".join(buf))


def _memory(r: redis.Redis) -> tuple[int, int]:
    """used_memory, and used_memory without the clients' buffers (the service's connections keep
    their query buffers of the last big MULTI/EXEC for a while: that is not data)."""
    info = r.info("memory")
    return int(info["used_memory"]), int(info["used_memory"]) - int(info.get("mem_clients_normal", 0))


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_parts(service_pid: int, redis_pid: int) -> dict[str, float]:
    """user+system CPU seconds so far of each part of the chain, from /proc (the parse workers are
    the service's live children; the HTTP client is this process)."""
    try:
        kids = [int(k) for k in Path(f"/proc/{service_pid}/task/{service_pid}/children").read_text().split()]
    except OSError:
        kids = []
    return {"HTTP client": time.process_time(), "service": _proc_cpu(service_pid),
            "parse workers": sum(_proc_cpu(k) for k in kids), "redis-server": _proc_cpu(redis_pid)}


def batches(path: Path, size: int) -> list[bytes]:
    data = path.read_bytes().split(b"\n")
    return [b"\n".join(data[i:i + size]) for i in range(0, len(data), size) if data[i:i + size] != [b""]]


def post_all(url: str, bodies: list[bytes], workers: int) -> float:
    """POST every body (pre-encoded before timing starts) over `workers` keep-alive connections;
    seconds from the first byte sent to the last 202 received (each 202 follows its MULTI/EXEC).
    A plain http.client connection per thread: a log shipper's cost, not a Python client's."""
    host, port = url.split("//", 1)[1].split(":")
    queue = list(reversed(bodies))
    lock = threading.Lock()

    def sender() -> int:
        accepted = 0
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        try:
            while True:
                with lock:
                    if not queue:
                        return accepted
                    body = queue.pop()
                conn.request("POST", "/logs", body=body, headers={"Content-Type": "text/plain"})
                r = conn.getresponse()
                answer = r.read()
                if r.status != 202:
                    raise RuntimeError(f"POST /logs answered {r.status}: {answer[:200]!r}")
                accepted += int(json.loads(answer)["accepted"])
        finally:
            conn.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        accepted = sum(pool.map(lambda _: sender(), range(workers)))
    elapsed = time.perf_counter() - started
    expected = sum(b.count(b"\n") + 1 for b in bodies)
    if accepted != expected:
        raise RuntimeError(f"accepted {accepted} of {expected} lines")
    return elapsed


MTAIL_PROG = r"""
counter haproxy_requests_total by status, backend
histogram haproxy_ta_ms by backend buckets 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000

/ (?P<backend>[^\/\s]+)\/(?P<server>\S+) (?P<tr>-?\d+)\/(?P<tw>-?\d+)\/(?P<tc>-?\d+)\/(?P<tres>-?\d+)\/\+?(?P<ta>\d+) (?P<status>-?\d+) / {
  haproxy_requests_total[$status][$backend]++
  haproxy_ta_ms[$backend] = $ta
}
"""


def run_mtail(path: Path, workdir: Path) -> tuple[float, float] | None:
    binary = shutil.which("mtail") or ("/usr/bin/mtail" if os.path.exists("/usr/bin/mtail") else None)
    if not binary:
        return None
    progs = workdir / "progs"
    progs.mkdir(exist_ok=True)
    (progs / "haproxy.mtail").write_text(MTAIL_PROG)
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "--one_shot", "--one_shot_format=prometheus", "--progs", str(progs),
                             "--logs", str(path), "--logtostderr"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate(timeout=600)
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or "haproxy_requests_total" not in stdout:
        print(f"mtail failed ({proc.returncode}): {stderr[-500:]}")
        return None
    return elapsed, usage.ru_utime + usage.ru_stime


QUERIES = ("overview", "response-times", "backends", "frontends")  # + breakdown, below


def query_latencies(url: str, samples: int = 9) -> None:
    """Median latency of the query endpoints the agent calls, over the data just ingested."""
    with httpx.Client(base_url=url, timeout=60) as client:
        for window in ("15m", "1h", "24h"):
            parts = []
            for name in QUERIES:
                times = []
                for _ in range(samples):
                    t0 = time.perf_counter()
                    client.get(f"/metrics/{name}", params={"window": window, "end": END}).raise_for_status()
                    times.append(time.perf_counter() - t0)
                times.sort()
                parts.append(f"{name} {times[len(times) // 2] * 1000:.1f}")
            print(f"  query ms (median of {samples}), window {window}: " + ", ".join(parts))


def breakdown_latencies(url: str, samples: int = 21) -> None:
    """p50/p95 of GET /metrics/breakdown (every scope, and one backend's) over the data ingested."""
    with httpx.Client(base_url=url, timeout=60) as client:
        for label, params in (("all scopes, 15m vs 60m", {}), ("backend=be_api, 15m vs 60m", {"backend": "be_api"}),
                              ("all scopes, 1h vs 24h", {"window": "1h", "baseline": "24h"})):
            times = []
            for _ in range(samples):
                t0 = time.perf_counter()
                r = client.get("/metrics/breakdown", params={"end": END, **params})
                times.append(time.perf_counter() - t0)
                r.raise_for_status()
            times.sort()
            p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
            print(f"  breakdown ms ({label}; {len(r.json()['scopes'])} scopes, {len(r.content) / 1e3:.0f} kB, "
                  f"{samples} runs): p50 {times[len(times) // 2] * 1000:.1f}, p95 {p95 * 1000:.1f}")


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    parser = argparse.ArgumentParser(prog="bench ingestion")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=4, help="concurrent keep-alive client connections")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side; the best is compared")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--double", type=int, default=1, help="0: skip the 2N-line memory run")
    parser.add_argument("--mtail", type=int, default=1, help="0: do not run mtail")
    parser.add_argument("--queries", type=int, default=1, help="0: do not time the query endpoints")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-ingestion-"))
    redis_port, http_port = free_port(), free_port()
    redis_proc = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    service = None
    try:
        wait_for_port(redis_port)
        r = redis.Redis(port=redis_port)
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(http_port), "LOG_LEVEL": "WARNING",
               "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "MAX_BODY_BYTES": str(64 * 1024 * 1024)}
        exe = Path(sys.executable).parent / "ingestion-service"
        service = subprocess.Popen([str(exe)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(http_port)
        url = f"http://127.0.0.1:{http_port}"
        results = {}
        for n in (args.lines, 2 * args.lines) if args.double else (args.lines,):
            path = work / f"haproxy-{n}.log"
            t0 = time.perf_counter()
            generate(path, n, args.seed)
            gen = time.perf_counter() - t0
            bodies = batches(path, args.batch)
            runs, mtail_runs, cpu_runs, mtail_cpu = [], [], [], []
            for _ in range(args.repeat):
                r.flushall()
                time.sleep(0.2)
                empty, empty_data = _memory(r)
                before = cpu_parts(service.pid, redis_proc.pid)
                load = os.getloadavg()[0]
                runs.append(post_all(url, bodies, args.workers))
                after = cpu_parts(service.pid, redis_proc.pid)
                parts = {k: after[k] - before[k] for k in before}
                cpu_runs.append((sum(parts.values()), parts, load))
                after, after_data = _memory(r)
                used, data_used = after - empty, after_data - empty_data
                children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
                mtail = run_mtail(path, work) if args.mtail else None
                if mtail:
                    mtail_runs.append(mtail[0])
                    mtail_cpu.append(mtail[1] - children_before.ru_utime - children_before.ru_stime)
            total = httpx.get(url + "/metrics/overview", params={"window": "2h", "end": END},
                              timeout=30).json()["total_requests"]
            results[n] = used
            best = min(runs)
            print(f"{n:,} lines over one hour ({path.stat().st_size / 1e6:.0f} MB, generated in {gen:.1f}s), "
                  f"batches of {args.batch:,}, {args.workers} client threads, best of {args.repeat}")
            print(f"  ours:  {best:.2f}s  {n / best:,.0f} lines/s end to end (first byte sent → last 202, all in Redis); runs "
                  f"{', '.join(f'{n / t:,.0f}' for t in runs)} lines/s; overview total_requests={total:,}")
            print(f"  redis: used_memory {used / 1e6:.2f} MB over empty ({used / n:.2f} B/request), "
                  f"{r.dbsize():,} keys; without client buffers {data_used / 1e6:.2f} MB")
            for (total_cpu, parts, load), t in zip(cpu_runs, runs):
                print(f"  CPU:   run of {n / t:,.0f} lines/s (load average {load:.1f} before it): {total_cpu / n * 1e6:.2f} "
                      f"µs/line = " + " + ".join(f"{k} {v / n * 1e6:.2f}" for k, v in parts.items())
                      + f"; {total_cpu / t:.2f} cores busy")
            ours_cpu = min(c[0] for c in cpu_runs)
            if mtail_runs:
                m = min(mtail_runs)
                mc = min(mtail_cpu)
                print(f"  mtail: {m:.2f}s  {n / m:,.0f} lines/s one-shot; runs "
                      f"{', '.join(f'{n / t:,.0f}' for t in mtail_runs)} lines/s; ours/mtail = {m / best:.2f}x")
                print(f"  mtail CPU {mc:.2f} s = {mc / n * 1e6:.2f} µs/line; CPU per line mtail/ours = "
                      f"{mc / ours_cpu:.2f}x")
            else:
                print("  mtail: not run (not installed, failed or --mtail=0)")
            if args.queries and n == args.lines:
                query_latencies(url)
                breakdown_latencies(url)
            path.unlink()
        a, b = results[args.lines], results.get(2 * args.lines, 0)
        if b:
            print(f"memory {2 * args.lines:,} vs {args.lines:,} lines over the same hour: {b / a:.3f}x "
              f"({(b / a - 1) * 100:+.1f}%, target within +25%)")
    finally:
        if service:
            service.terminate()
            service.wait(timeout=15)
        redis_proc.terminate()
        redis_proc.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])

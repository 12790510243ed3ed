"""Time to page on the real chain, with the shipped rules, scrape interval and Alertmanager timers.

load generator → HAProxy (Debian) → small HTTP servers, one backend per case (bench/page_cases.py)
HAProxy → syslog UDP → ingestion-service → Prometheus (monitoring/prometheus.yml's intervals,
monitoring/alert-rules.yml as shipped) → Alertmanager (monitoring/alertmanager.yml's routes and
timers; only URLs, the SMTP host and the token file substituted) → agent-service (rules engine) →
notifier-service (shipped coalescing) → aiosmtpd on loopback.

Every case runs at once: the fault cases switch their servers after a healthy warm-up, the healthy
cases run the whole time. Per case: the first failing request, the first email naming its backend,
time to page; per healthy case, the emails (pages) it got. Prints a table and writes a JSON file.

    python -m bench page [--warmup=360] [--observe=600] [--min-total=660] [--label=after]
                         [--rules=PATH] [--alertmanager=PATH] [--results=results]

`--rules`/`--alertmanager` replace the shipped files (e.g. main's, for a "before" run)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.page_cases import CASES, Bursts, Case, CaseResult, alert_names, answer, is_failure, match_mail, rate_at, table
from scripts.local_stack import SmtpSink
from tests.e2e.harness import Proc, Service, ready, start_service
from tests.support.net import free_port, free_udp_port, wait_for_port
from tests.support.redis_proc import RedisProcess

REPO = Path(__file__).resolve().parents[1]
MONITORING = REPO / "monitoring"


def _options(argv: list[str]) -> dict[str, str]:
    opts = {"warmup": "360", "observe": "600", "min-total": "660", "label": "after", "results": "results",
            "rules": str(MONITORING / "alert-rules.yml"), "alertmanager": str(MONITORING / "alertmanager.yml")}
    for arg in argv:
        name, _, value = arg.lstrip("-").partition("=")
        if name in opts and value:
            opts[name] = value
    return opts


def _binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin:/usr/local/bin")
    if not path:
        raise SystemExit(f"{name} is not installed (make setup installs it with apt-get)")
    return path


# ------------------------------------------------------------------------------ configs
def haproxy_config(*, syslog_port: int, frontend_port: int, ports: dict[str, list[int]],
                   cases: tuple[Case, ...] = CASES) -> str:
    lines = ["global", f"    log 127.0.0.1:{syslog_port} len 8192 local0", "    maxconn 2048",
             "defaults", "    mode http", "    log global", "    option httplog", "    timeout connect 2s",
             "    timeout client 60s", "    timeout server 45s", "    timeout queue 5s",
             "frontend fe_page", f"    bind 127.0.0.1:{frontend_port}"]
    lines += [f"    use_backend {c.backend} if {{ path_beg /{c.backend}/ }}" for c in cases]
    lines.append(f"    default_backend {cases[-1].backend}")
    for case in cases:
        lines.append(f"backend {case.backend}")
        check = " check inter 2s fall 3 rise 2" if case.health_checks else ""
        lines += [f"    server srv{i + 1} 127.0.0.1:{port}{check}" for i, port in enumerate(ports[case.backend])]
    return "\n".join(lines) + "\n"


def prometheus_config(shipped: dict[str, Any], *, rules: Path, alertmanager: str,
                      targets: dict[str, str]) -> dict[str, Any]:
    """The shipped prometheus.yml with only the addresses and the rule file's path replaced."""
    config = json.loads(json.dumps(shipped))
    config["rule_files"] = [str(rules)]
    config["alerting"]["alertmanagers"][0]["static_configs"] = [{"targets": [alertmanager]}]
    jobs = []
    for job in config["scrape_configs"]:
        if job["job_name"] in targets:
            job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
            jobs.append(job)
    config["scrape_configs"] = jobs
    return config


def alertmanager_config(shipped: dict[str, Any], *, agent_url: str, token_file: Path, smtp_port: int) -> dict[str, Any]:
    """The shipped alertmanager.yml, routes and timers untouched; URLs, SMTP host, token file replaced."""
    config = json.loads(json.dumps(shipped))
    config["global"]["smtp_smarthost"] = f"127.0.0.1:{smtp_port}"
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = f"{agent_url}/alerts"
            webhook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    return config


# ------------------------------------------------------------------------------ servers and load
@dataclass
class Clock:
    t0: float
    fault_at: float  # monotonic

    def now(self) -> float:
        return time.monotonic() - self.t0


async def _serve_one(case: Case, clock: Clock, rng: random.Random,
                     reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()  # HAProxy's TCP health check: connect and close
        return
    reply = answer(case, time.monotonic() >= clock.fault_at and head.startswith(b"GET "), rng)
    try:
        await asyncio.sleep(reply.delay_s)
        writer.write(f"HTTP/1.1 {reply.status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode())
        await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass  # the client went away, or the run is over (an answer still sleeping is dropped)
    finally:
        writer.close()


async def start_servers(clock: Clock, cases: tuple[Case, ...] = CASES) -> tuple[dict[str, list[int]], list[Any]]:
    ports: dict[str, list[int]] = {}
    stoppers = []
    for case in cases:
        rng = random.Random(case.backend)
        ports[case.backend] = []
        for index in range(case.servers):
            server = await asyncio.start_server(
                lambda r, w, c=case, g=rng: _serve_one(c, clock, g, r, w), "127.0.0.1", 0)
            ports[case.backend].append(server.sockets[0].getsockname()[1])
            if case.fault == "nosrv" or (case.fault == "refuse" and index == 0):
                stoppers.append(_stop_at(server, clock))
    return ports, stoppers


async def _stop_at(server: asyncio.Server, clock: Clock) -> None:
    await asyncio.sleep(max(0.0, clock.fault_at - time.monotonic()))  # read once the run has started
    server.close()  # stops listening: new connections are refused


@dataclass
class Load:
    case: Case
    result: CaseResult
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


async def _request(load: Load, port: int, clock: Clock) -> None:
    sent = time.monotonic()
    status: int | None = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        writer.write(f"GET /{load.case.backend}/item HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 60)
        writer.close()
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None
    except (OSError, asyncio.TimeoutError, ValueError, IndexError):
        status = None
    took = time.monotonic() - sent
    load.result.requests += 1
    if sent >= clock.fault_at and is_failure(status, took):
        load.result.failures += 1
        at = sent - clock.t0
        if load.case.kind == "fault" and (load.result.first_failure_s is None or at < load.result.first_failure_s):
            load.result.first_failure_s = at


async def generate(load: Load, port: int, clock: Clock, duration_s: float, stop: asyncio.Event) -> None:
    rng = random.Random(f"load-{load.case.backend}")
    bursts = Bursts.plan(duration_s) if load.case.shape == "bursty" else None
    while not stop.is_set():
        rate = rate_at(load.case, clock.now(), duration_s, bursts)
        await asyncio.sleep(rng.expovariate(rate))
        task = asyncio.create_task(_request(load, port, clock))
        load.tasks.add(task)
        task.add_done_callback(load.tasks.discard)


# ------------------------------------------------------------------------------ the run
@dataclass
class Chain:
    workdir: Path
    redis: RedisProcess
    sink: SmtpSink
    services: list[Service] = field(default_factory=list)
    procs: list[Proc] = field(default_factory=list)
    prometheus_url: str = ""
    syslog_port: int = 0

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        for service in reversed(self.services):
            service.proc.stop()
        self.sink.stop()
        self.redis.stop()


def start_chain(workdir: Path, opts: dict[str, str]) -> Chain:
    chain = Chain(workdir, RedisProcess(_binary("redis-server")).start(), SmtpSink().start())
    try:
        token, notifier_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        chain.syslog_port = free_udp_port()
        redis_url = chain.redis.url
        ingestion = start_service("ingestion-service", workdir, {
            "REDIS_URL": redis_url, "SYSLOG_UDP_PORT": str(chain.syslog_port)}, ready_path="/health/ready")
        chain.services.append(ingestion)
        notifier = start_service("notifier-service", workdir, {
            "REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(chain.sink.port),
            "EMAIL_TO": "oncall@example.com", "NOTIFIER_TOKEN": notifier_token}, ready_path="/health/ready")
        chain.services.append(notifier)
        prom_port, am_port = free_port(), free_port()
        agent = start_service("agent-service", workdir, {
            "REDIS_URL": redis_url, "INGESTION_URL": ingestion.url, "NOTIFIER_URL": notifier.url,
            "NOTIFIER_TOKEN": notifier_token, "ALERTS_TOKEN": token, "LLM_ENGINE": "rules",
            "PROMETHEUS_URL": f"http://127.0.0.1:{prom_port}", "ANTHROPIC_API_KEY": ""}, ready_path="/health/ready")
        chain.services.append(agent)

        am_dir = workdir / "alertmanager"
        am_dir.mkdir()
        token_file = am_dir / "alerts_token"
        token_file.write_text(token)
        token_file.chmod(0o600)
        am_config = alertmanager_config(yaml.safe_load(Path(opts["alertmanager"]).read_text()),
                                        agent_url=agent.url, token_file=token_file, smtp_port=chain.sink.port)
        (am_dir / "alertmanager.yml").write_text(yaml.safe_dump(am_config, sort_keys=False))
        am = Proc("alertmanager", [_binary("prometheus-alertmanager"), f"--config.file={am_dir / 'alertmanager.yml'}",
                                   f"--storage.path={am_dir / 'data'}", f"--web.listen-address=127.0.0.1:{am_port}",
                                   "--cluster.listen-address=", "--log.level=warn"], am_dir)
        chain.procs.append(am)
        ready(am, f"http://127.0.0.1:{am_port}/-/ready")

        prom_dir = workdir / "prometheus"
        prom_dir.mkdir()
        rules = prom_dir / "alert-rules.yml"
        shutil.copyfile(opts["rules"], rules)
        shipped = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
        prom_config = prometheus_config(shipped, rules=rules, alertmanager=f"127.0.0.1:{am_port}", targets={
            "oncall-ingestion": f"127.0.0.1:{ingestion.port}", "oncall-agent": f"127.0.0.1:{agent.port}",
            "oncall-notifier": f"127.0.0.1:{notifier.port}", "prometheus": f"127.0.0.1:{prom_port}",
            "alertmanager": f"127.0.0.1:{am_port}"})
        (prom_dir / "prometheus.yml").write_text(yaml.safe_dump(prom_config, sort_keys=False))
        prom = Proc("prometheus", [_binary("prometheus"), f"--config.file={prom_dir / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={prom_dir / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"], prom_dir)
        chain.procs.append(prom)
        chain.prometheus_url = f"http://127.0.0.1:{prom_port}"
        ready(prom, f"{chain.prometheus_url}/-/ready")
        return chain
    except BaseException:
        chain.stop()
        raise


def start_haproxy(workdir: Path, chain: Chain, ports: dict[str, list[int]]) -> int:
    frontend_port = free_port()
    config = workdir / "haproxy.cfg"
    config.write_text(haproxy_config(syslog_port=chain.syslog_port, frontend_port=frontend_port, ports=ports))
    haproxy = _binary("haproxy")
    check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30, check=False)
    if check.returncode != 0:
        raise RuntimeError(check.stdout + check.stderr)
    proc = Proc("haproxy", [haproxy, "-db", "-f", str(config)], workdir)
    chain.procs.append(proc)
    wait_for_port(frontend_port, timeout=10)
    return frontend_port


async def watch_alerts(prometheus_url: str, clock: Clock, seen: dict[str, dict[str, float]], stop: asyncio.Event) -> None:
    """First time (s from start) each `alertname{backend}` was seen pending and firing."""
    async with httpx.AsyncClient(timeout=5) as client:
        while not stop.is_set():
            try:
                alerts = (await client.get(f"{prometheus_url}/api/v1/alerts")).json()["data"]["alerts"]
            except (httpx.HTTPError, ValueError, KeyError):
                alerts = []
            for alert in alerts:
                key = f"{alert['labels'].get('alertname')}{{{alert['labels'].get('backend', '')}}}"
                seen.setdefault(key, {}).setdefault(alert["state"], round(clock.now(), 1))
            try:
                await asyncio.wait_for(stop.wait(), 5)
            except asyncio.TimeoutError:
                pass


def collect_emails(sink: SmtpSink, clock: Clock, results: dict[str, CaseResult]) -> list[dict[str, Any]]:
    """Sort the sink's emails onto their cases; returns the ones naming no case."""
    for result in results.values():
        result.emails.clear()
    others = []
    for mail in sorted(sink.received(), key=lambda m: m.at):
        at = mail.at - clock.t0
        backend = match_mail(mail.subject)
        if backend is None:
            others.append({"at_s": round(at, 1), "subject": mail.subject})
            continue
        result = results[backend]
        if not result.emails:
            result.alerts_in_first_email = alert_names(mail.subject + "\n" + mail.text())
        result.emails.append((at, mail.subject))
    return others


async def run(chain: Chain, opts: dict[str, str]) -> dict[str, Any]:
    warmup, observe, min_total = float(opts["warmup"]), float(opts["observe"]), float(opts["min-total"])
    duration = warmup + observe
    now = time.monotonic()
    clock = Clock(t0=now, fault_at=now + warmup)
    results = {case.backend: CaseResult(case.backend, case.kind) for case in CASES}
    ports, stoppers = await start_servers(clock)
    frontend_port = start_haproxy(chain.workdir, chain, ports)
    clock.t0 = time.monotonic()
    clock.fault_at = clock.t0 + warmup
    stop = asyncio.Event()
    seen: dict[str, dict[str, float]] = {}
    loads = [Load(case, results[case.backend]) for case in CASES]
    tasks = [asyncio.create_task(generate(load, frontend_port, clock, duration, stop)) for load in loads]
    tasks += [asyncio.create_task(s) for s in stoppers]
    tasks.append(asyncio.create_task(watch_alerts(chain.prometheus_url, clock, seen, stop)))
    print(f"page: {len(CASES)} cases on one HAProxy; warm-up {warmup:.0f} s, faults then observed up to "
          f"{observe:.0f} s (stop early once every fault paged and {min_total:.0f} s passed)", flush=True)
    faults = [r for r in results.values() if r.kind == "fault"]
    last_report = 0.0
    while clock.now() < duration:
        await asyncio.sleep(5)
        collect_emails(chain.sink, clock, results)
        if clock.now() - last_report >= 60:
            last_report = clock.now()
            paged = [r.backend for r in faults if r.emails]
            false = [r.backend for r in results.values() if r.kind == "healthy" and r.emails]
            print(f"  t={clock.now():5.0f} s  paged: {paged or '-'}  healthy paged: {false or '-'}  "
                  f"load avg {os.getloadavg()[0]:.1f}", flush=True)
        if all(r.emails for r in faults) and clock.now() >= min_total:
            break
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for load in loads:
        for task in list(load.tasks):
            task.cancel()
    await asyncio.sleep(0.5)
    others = collect_emails(chain.sink, clock, results)
    healthy_minutes = clock.now() / 60
    ordered = [results[case.backend] for case in CASES]
    print(table(ordered, healthy_minutes=healthy_minutes), flush=True)
    if others:
        print(f"emails naming no case: {others}")
    return {
        "label": opts["label"], "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "warmup_s": warmup, "fault_at_s": warmup, "ran_s": round(clock.now(), 1),
        "healthy_minutes": round(healthy_minutes, 1), "rules": opts["rules"], "alertmanager": opts["alertmanager"],
        "cases": [results[case.backend].as_json(case) for case in CASES],
        "other_emails": others, "alerts_seen": seen, "cores": os.cpu_count(),
    }


def main(argv: list[str]) -> None:
    opts = _options(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-page-"))
    print(f"page: work dir {workdir} (logs of every process)", flush=True)
    chain = start_chain(workdir, opts)
    try:
        report = asyncio.run(run(chain, opts))
    finally:
        chain.stop()
    out = Path(opts["results"])
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"page-{opts['label']}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"page: results in {path}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

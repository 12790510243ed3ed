"""Real monitoring components on loopback for the stack tests: Prometheus, Alertmanager, HAProxy,
the demo backend and load generator (monitoring/demo/), and an aiosmtpd SMTP sink.

Every process is started on free ports in a temp dir and stopped by its own PID."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from scripts.local_stack import Mail, SmtpSink, wait_until
from tests.support.binaries import require_binary
from tests.support.net import free_port, wait_for_port

__all__ = ["Mail", "SmtpSink"]  # the aiosmtpd sink `make demo` uses, re-exported for the tests

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "monitoring"
DEMO = MONITORING / "demo"


class Proc:
    """A process we started; stop() ends it (and only it) by PID."""

    def __init__(self, name: str, args: list[str], workdir: Path, *, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        try:
            self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=workdir, env=env)
        except BaseException:
            self._log.close()
            raise

    def alive(self) -> bool:
        return self.proc.poll() is None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


def wait_http_ok(url: str, *, timeout: float = 20.0, proc: Proc | None = None) -> None:
    def ok() -> bool:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.logs()[-3000:]}")
        try:
            return httpx.get(url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ok, timeout=timeout, what=url)


# ------------------------------------------------------------------------------ our services
@dataclass
class Service:
    proc: Proc
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_service(command: str, workdir: Path, env: dict[str, str], *, ready_path: str = "/health") -> Service:
    """One of .venv/bin/{ingestion,agent,notifier}-service on a free port (log file in workdir).
    (tests.support.servers.ServiceProcess leaves its log file open, which filterwarnings=error
    turns into a ResourceWarning failure; Proc closes it.)"""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {**os.environ, "LOG_LEVEL": "WARNING", **env, "HOST": "127.0.0.1", "PORT": str(port)}
    proc = Proc(command, [str(Path(sys.executable).parent / command)], workdir, env=full_env)
    ready(proc, f"http://127.0.0.1:{port}{ready_path}")
    return Service(proc, port)


def ready(proc: Proc, url: str, timeout: float = 60.0) -> None:
    """Wait for `url`; if it never answers, stop the process (closing its log) and re-raise."""
    try:
        wait_http_ok(url, proc=proc, timeout=timeout)
    except BaseException:
        proc.stop()
        raise


# ------------------------------------------------------------------------------ Prometheus
@dataclass
class Prometheus:
    proc: Proc
    url: str

    def query(self, expr: str) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/api/v1/query", data={"query": expr}, timeout=10.0)
        return response.json()

    def alerts(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/api/v1/alerts", timeout=5.0).json()["data"]["alerts"]

    def target_health(self) -> list[str]:
        targets = httpx.get(f"{self.url}/api/v1/targets", timeout=5.0).json()["data"]["activeTargets"]
        return [target["health"] for target in targets]


def start_prometheus(workdir: Path, *, targets: dict[str, str], rule_files: list[Path],
                     alertmanager: str | None = None, interval: str = "1s") -> Prometheus:
    """targets: job name -> host:port (scraped at /prometheus/metrics)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {"job_name": job, "metrics_path": "/prometheus/metrics", "static_configs": [{"targets": [target]}]}
            for job, target in targets.items()
        ],
    }
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    proc = Proc("prometheus", [
        "prometheus",
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        # without it the first notification after start-up waits a minute (shared/fixtures README)
        "--rules.alert.resend-delay=1s",
        "--log.level=warn",
    ], workdir)
    url = f"http://127.0.0.1:{port}"
    ready(proc, f"{url}/-/ready")
    return Prometheus(proc, url)


def fast_golden_signal_rules(destination: Path) -> Path:
    """A test copy of the golden-signals group of monitoring/alert-rules.yml with short windows and
    `for:` durations, so that an outage fires and resolves within seconds instead of minutes.
    The expressions, labels and annotations are otherwise the project's own."""
    groups = yaml.safe_load((MONITORING / "alert-rules.yml").read_text())["groups"]
    (golden,) = [group for group in groups if group["name"] == "golden-signals"]
    for rule in golden["rules"]:
        # the multi-window rules' short window ([1m]) shrinks with the long ones
        rule["expr"] = rule["expr"].replace("[5m]", "[10s]").replace("[10m]", "[20s]").replace("[1m]", "[5s]")
        if "for" in rule:
            rule["for"] = "2s"
    destination.write_text(yaml.safe_dump({"groups": [golden]}, sort_keys=False))
    return destination


# ------------------------------------------------------------------------------ Alertmanager
@dataclass
class Alertmanager:
    proc: Proc
    url: str
    address: str


def start_alertmanager(workdir: Path, *, agent_url: str, token: str, smtp_port: int) -> Alertmanager:
    """The project's monitoring/alertmanager.yml, pointed at loopback, with 1 s group timers."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((MONITORING / "alertmanager.yml").read_text())
    token_file = workdir / "alerts_token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    config["global"]["smtp_smarthost"] = f"127.0.0.1:{smtp_port}"
    config["route"].update(group_wait="1s", group_interval="1s")
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = f"{agent_url}/alerts"
            webhook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    (workdir / "alertmanager.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    proc = Proc("alertmanager", [
        require_binary("prometheus-alertmanager"),
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ], workdir)
    url = f"http://127.0.0.1:{port}"
    ready(proc, f"{url}/-/ready")
    return Alertmanager(proc, url, f"127.0.0.1:{port}")


# ------------------------------------------------------------------------------ HAProxy + demo backend
@dataclass
class DemoBackend:
    proc: Proc
    port: int
    admin_url: str

    def set(self, **settings: float | int | str) -> dict[str, Any]:
        response = httpx.post(f"{self.admin_url}/state", params=settings, timeout=5.0)
        response.raise_for_status()
        return response.json()


def start_demo_backend(workdir: Path) -> DemoBackend:
    port, admin_port = free_port(), free_port()
    proc = Proc("demo-backend", [sys.executable, str(DEMO / "backend.py"), "--port", str(port),
                                 "--admin-port", str(admin_port)], workdir)
    admin_url = f"http://127.0.0.1:{admin_port}"
    ready(proc, f"{admin_url}/state")
    return DemoBackend(proc, port, admin_url)


HAPROXY_CFG = """\
global
    log 127.0.0.1:{syslog_port} len 8192 local0
    maxconn 256
defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout queue 5s
frontend fe_e2e
    bind 127.0.0.1:{frontend_port}
    use_backend be_checkout if {{ path_beg /checkout }}
    default_backend be_catalog
backend be_checkout
    server checkout1 127.0.0.1:{backend_port} maxconn 16
backend be_catalog
    server catalog1 127.0.0.1:{backend_port} maxconn 16
"""


@dataclass
class HAProxy:
    proc: Proc
    url: str


def start_haproxy(workdir: Path, *, backend_port: int, syslog_port: int) -> HAProxy:
    """Real HAProxy, `option httplog`, logging to syslog UDP on loopback; two backends
    (be_checkout for /checkout*, be_catalog for the rest) on the same demo backend."""
    frontend_port = free_port()
    config = workdir / "haproxy.cfg"
    config.write_text(HAPROXY_CFG.format(syslog_port=syslog_port, frontend_port=frontend_port,
                                         backend_port=backend_port))
    haproxy = require_binary("haproxy")
    check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30, check=False)
    if check.returncode != 0:
        raise RuntimeError(check.stdout + check.stderr)
    proc = Proc("haproxy", [haproxy, "-db", "-f", str(config)], workdir)
    try:
        wait_for_port(frontend_port, timeout=10)
    except BaseException:
        proc.stop()
        raise
    return HAProxy(proc, f"http://127.0.0.1:{frontend_port}")


def start_loadgen(workdir: Path, *, url: str, rps: float, paths: list[str]) -> Proc:
    return Proc("loadgen", [sys.executable, str(DEMO / "loadgen.py"), "--url", url, "--rps", str(rps),
                            "--timeout", "5", "--paths", *paths], workdir)

"""The stack without Docker, for `make demo` and `make run`: a redis-server of its own (temp dir),
the three services from .venv/bin, and an aiosmtpd SMTP sink in this process. Everything it starts
it stops, by PID, in reverse order (also on Ctrl-C and SIGTERM: see `handle_signals`)."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent



def wait_until(check: Callable[[], Any], *, timeout: float, what: str = "condition", interval: float = 0.2,
               details: Callable[[], str] | None = None) -> Any:
    """Poll `check` until it returns something truthy and return that; TimeoutError names `what`
    (and adds `details()`, e.g. the tail of a log) when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{details()}" if details else ""
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}{extra}")
        time.sleep(interval)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def handle_signals() -> None:
    """SIGTERM (and SIGHUP) behave like Ctrl-C: the caller's `finally` stops what was started."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    # a shell starting us in the background (`make demo &`) leaves SIGINT ignored: restore Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)


def find_redis_server() -> str:
    for candidate in (shutil.which("redis-server"), "/usr/bin/redis-server", "/usr/sbin/redis-server"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("redis-server is not installed: run `make setup` (as root it installs it with apt-get)")


@dataclass
class Mail:
    at: float  # time.monotonic() when the sink received it
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


@dataclass
class SmtpSink:
    """aiosmtpd on loopback: keeps every message; `on_message` is called for each."""

    port: int = 0
    on_message: Callable[[Mail], None] | None = None
    messages: list[Mail] = field(default_factory=list)

    def __post_init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = self.port or free_port()
        self._lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                mail = Mail(time.monotonic(), envelope.mail_from, list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
                with sink._lock:
                    sink.messages.append(mail)
                if sink.on_message:
                    sink.on_message(mail)
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def received(self) -> list[Mail]:
        with self._lock:
            return list(self.messages)


class LocalStack:
    def __init__(self, workdir: Path, *, log: Callable[[str], None] = print) -> None:
        self.workdir = workdir
        self.log = log
        self._procs: list[tuple[str, subprocess.Popen[bytes], Any]] = []
        self._sink: SmtpSink | None = None
        self.urls: dict[str, str] = {}

    # -- processes
    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log_file = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        try:
            proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, cwd=self.workdir, env=env)
        except BaseException:
            log_file.close()
            raise
        self._procs.append((name, proc, log_file))
        return proc

    def logs(self, name: str, tail: int = 3000) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def _wait_ready(self, name: str, proc: subprocess.Popen[bytes], url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.logs(name)}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{name} not ready after {timeout}s:\n{self.logs(name)}")

    def start_redis(self, port: int | None = None) -> str:
        port = port or free_port()
        data = self.workdir / "redis"
        data.mkdir(exist_ok=True)
        proc = self._spawn("redis", [find_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
                                     "--dir", str(data), "--save", "", "--appendonly", "no",
                                     "--maxmemory", "256mb", "--maxmemory-policy", "volatile-ttl"])
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self.logs('redis')}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("redis-server did not answer PING")
            time.sleep(0.05)
        self.urls["redis"] = f"redis://127.0.0.1:{port}/0"
        self.log(f"  redis-server      {self.urls['redis']}  (data in {data})")
        return self.urls["redis"]

    def start_sink(self, port: int | None = None, on_message: Callable[[Mail], None] | None = None) -> SmtpSink:
        self._sink = SmtpSink(port or 0, on_message).start()
        self.log(f"  SMTP sink         127.0.0.1:{self._sink.port}  (aiosmtpd, keeps every email)")
        return self._sink

    def start_service(self, command: str, env: dict[str, str], *, port: int | None = None,
                      ready_path: str = "/health") -> str:
        port = port or free_port()
        full_env = {**os.environ, "LOG_LEVEL": "WARNING", **env, "HOST": "127.0.0.1", "PORT": str(port)}
        url = f"http://127.0.0.1:{port}"
        if command == "agent-service":
            full_env.setdefault("PUBLIC_URL", url)  # links in the emails point at this agent
        executable = VENV_BIN / command
        if not executable.exists():
            raise SystemExit(f"{executable} not found: run `make setup`")
        proc = self._spawn(command, [str(executable)], full_env)
        self._wait_ready(command, proc, url + ready_path)
        self.urls[command] = url
        self.log(f"  {command:<17} {url}  (log: {self.workdir / (command + '.log')})")
        return url

    def check_alive(self) -> list[str]:
        """Names of started processes that have exited."""
        return [name for name, proc, _ in self._procs if proc.poll() is not None]

    def stop(self) -> None:
        """Stop everything started, in reverse order; a second Ctrl-C meanwhile does not cut it short."""
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
        try:
            self._stop_all()
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)

    def _stop_all(self) -> None:
        for name, proc, log_file in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            log_file.close()
            self.log(f"  stopped {name} (pid {proc.pid})")
        self._procs.clear()
        if self._sink is not None:
            self._sink.stop()
            self._sink = None
            self.log("  stopped the SMTP sink")

"""Real servers on loopback for tests: an ASGI app under uvicorn in a thread, or a service process."""

from __future__ import annotations

import os
import subprocess
import tempfile
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import uvicorn

from tests.support.net import free_port

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@contextmanager
def serve_app(app: object, *, port: int | None = None, timeout: float = 15.0) -> Iterator[str]:
    """Run `app` under uvicorn in a background thread; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited during start-up")
        if time.monotonic() > deadline:
            raise TimeoutError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)


class ServiceProcess:
    """One of the project's console scripts (`ingestion-service`, ...) as a real process."""

    def __init__(self, command: str, env: dict[str, str], *, port: int | None = None) -> None:
        self.command = command
        self.port = port or free_port()
        self.env = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        # One log per instance (a restart appends to it); never another run's lines.
        self.log_path = Path(tempfile.mkdtemp(prefix=f"{command}-{self.port}-")) / "service.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_path: str = "/health", timeout: float = 60.0) -> ServiceProcess:
        executable = VENV_BIN / self.command
        self._log = log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([str(executable)], env=self.env, stdout=log, stderr=log, cwd=REPO)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.command} exited: {self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(self.url + ready_path, timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{self.command} not ready: {self.log_path.read_text()[-4000:]}")

    def stop(self, *, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def logs(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

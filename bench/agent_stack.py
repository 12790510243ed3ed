"""A local stack for the agent benchmarks: real redis-server, ingestion-service and agent-service
processes on free loopback ports, and a generator of HAProxy httplog traffic to ingest."""

from __future__ import annotations

import random
import shutil
import time
from types import TracebackType

import httpx

from ingestion_service.haproxy.timestamps import format_accept_date
from tests.support.redis_proc import RedisProcess
from tests.support.servers import ServiceProcess

BATCH_LINES = 20_000
BACKENDS = {"be_api": ("api1", "api2", "api3"), "be_web": ("web1", "web2"), "be_auth": ("auth1",)}
PATHS = [f"/api/v1/items/{i}" for i in range(40)] + ["/", "/login", "/health", "/static/app.js"]
CODES = [200] * 90 + [201] * 3 + [304] * 2 + [404] * 3 + [500, 503]


class Stack:
    def __init__(self, *, agent_env: dict[str, str]) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.redis = RedisProcess(binary)
        self.agent_env = agent_env
        self.ingestion: ServiceProcess | None = None
        self.agent: ServiceProcess | None = None

    def __enter__(self) -> Stack:
        try:
            self.redis.start()
            quiet = {"LOG_LEVEL": "WARNING", "REDIS_URL": self.redis.url}
            self.ingestion = ServiceProcess("ingestion-service", quiet).start()
            self.agent = ServiceProcess(
                "agent-service",
                {**quiet, "INGESTION_URL": self.ingestion.url, "ALERT_WORKER_ENABLED": "false", **self.agent_env},
            ).start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for service in (self.agent, self.ingestion):
            if service is not None:
                service.stop()
        self.redis.stop()

    @property
    def agent_url(self) -> str:
        assert self.agent is not None
        return self.agent.url

    @property
    def ingestion_url(self) -> str:
        assert self.ingestion is not None
        return self.ingestion.url


def generated_lines(count: int, *, seconds: float = 14 * 60, seed: int = 7) -> list[str]:
    """`count` httplog lines spread over the last `seconds`, oldest first."""
    rng = random.Random(seed)
    end_ms = int(time.time() * 1000) - 5_000
    start_ms = end_ms - int(seconds * 1000)
    step = (end_ms - start_ms) / max(count, 1)
    backends = list(BACKENDS.items())
    lines = []
    for i in range(count):
        backend, servers = backends[i % len(backends)]
        server = servers[i % len(servers)]
        tr = int(rng.lognormvariate(3.5, 0.8))
        queue = 0 if rng.random() < 0.98 else rng.randint(1, 40)
        code = rng.choice(CODES)
        accept = format_accept_date(start_ms + int(i * step))
        lines.append(
            f"10.0.{i % 200}.{i % 250}:{40000 + i % 20000} [{accept}] fe_main {backend}/{server} "
            f"0/{queue}/1/{tr}/{tr + queue + 1} {code} {512 + i % 900} - - ---- 12/12/3/1/0 0/0 "
            f'"GET {PATHS[i % len(PATHS)]} HTTP/1.1"'
        )
    return lines


def ingest_generated(ingestion_url: str, count: int) -> None:
    lines = generated_lines(count)
    with httpx.Client(base_url=ingestion_url, timeout=120) as client:
        for start in range(0, len(lines), BATCH_LINES):
            body = "\n".join(lines[start : start + BATCH_LINES]) + "\n"
            answer = client.post("/logs", content=body.encode(), headers={"Content-Type": "text/plain"})
            answer.raise_for_status()
            if answer.json().get("rejected"):
                raise RuntimeError(f"ingestion rejected lines: {answer.json()}")

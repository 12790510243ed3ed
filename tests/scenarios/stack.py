"""A local stack for scenarios: real redis-server, ingestion-service and agent-service processes
on free loopback ports, with random bearer tokens so the authenticated paths are the ones used."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, field
from typing import Literal

import redis

from tests.support.net import free_port, free_udp_port
from tests.support.redis_proc import RedisProcess
from tests.support.servers import ServiceProcess

Engine = Literal["rules", "anthropic", "openai"]


def default_engine() -> Engine:
    return "anthropic" if os.environ.get("ANTHROPIC_API_KEY") else "rules"


def find_redis_server() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if os.path.exists(p)), None
    )


@dataclass
class Stack:
    """URLs and tokens of a running stack (started here, or given by the caller)."""

    ingestion_url: str
    agent_url: str
    redis_url: str | None = None
    ingest_token: str | None = None
    api_token: str | None = None
    syslog_port: int | None = None
    engine: str = "rules"
    _processes: list[ServiceProcess] = field(default_factory=list)
    _redis: RedisProcess | None = None

    def flush(self) -> None:
        """Empty Redis between scenarios (signals, incidents, reports)."""
        if self.redis_url is None:
            raise RuntimeError("this stack was not started here: its Redis is not ours to flush")
        redis.Redis.from_url(self.redis_url).flushall()

    def stop(self) -> None:
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()
        if self._redis is not None:
            self._redis.stop()
            self._redis = None

    def logs(self) -> str:
        return "\n".join(f"--- {p.command} ---\n{p.logs()[-6000:]}" for p in self._processes)


def start_agent(stack: Stack, *, engine: Engine, env: dict[str, str] | None = None) -> Stack:
    """Another agent-service on `stack`'s Redis and ingestion (e.g. another engine); stop it alone."""
    agent = ServiceProcess("agent-service", {
        "REDIS_URL": stack.redis_url or "", "INGESTION_URL": stack.ingestion_url,
        "NOTIFIER_URL": f"http://127.0.0.1:{free_port()}", "LLM_ENGINE": engine, "API_TOKEN": stack.api_token or "",
        "ALERTS_TOKEN": secrets.token_hex(16), "LOG_LEVEL": "WARNING", **(env or {}),
    })
    other = Stack(ingestion_url=stack.ingestion_url, agent_url="", redis_url=stack.redis_url,
                  ingest_token=stack.ingest_token, api_token=stack.api_token, syslog_port=stack.syslog_port,
                  engine=engine, _processes=[agent])
    agent.start()
    other.agent_url = agent.url
    return other


def start_stack(*, engine: Engine, redis_binary: str, extra_agent_env: dict[str, str] | None = None) -> Stack:
    """Start redis-server, ingestion-service (HTTP + syslog UDP) and agent-service; stop on failure."""
    redis_proc = RedisProcess(redis_binary).start()
    ingest_token, api_token = secrets.token_hex(16), secrets.token_hex(16)
    syslog_port = free_udp_port()
    stack = Stack(ingestion_url="", agent_url="", redis_url=redis_proc.url, ingest_token=ingest_token,
                  api_token=api_token, syslog_port=syslog_port, engine=engine, _redis=redis_proc)
    try:
        ingestion = ServiceProcess("ingestion-service", {
            "REDIS_URL": redis_proc.url, "INGEST_TOKEN": ingest_token, "SYSLOG_UDP_PORT": str(syslog_port),
            "LOG_LEVEL": "WARNING",
        })
        stack._processes.append(ingestion)
        ingestion.start(ready_path="/health/ready")
        stack.ingestion_url = ingestion.url
        agent_env = {
            "REDIS_URL": redis_proc.url, "INGESTION_URL": ingestion.url, "INGESTION_READ_TOKEN": ingest_token,
            "NOTIFIER_URL": f"http://127.0.0.1:{free_port()}", "LLM_ENGINE": engine,
            "API_TOKEN": api_token, "ALERTS_TOKEN": secrets.token_hex(16), "LOG_LEVEL": "WARNING",
            **(extra_agent_env or {}),
        }
        agent = ServiceProcess("agent-service", agent_env)
        stack._processes.append(agent)
        agent.start()
        stack.agent_url = agent.url
    except BaseException:
        stack.stop()
        raise
    return stack

"""Redis at maxmemory (noeviction): real redis-server with --maxmemory 2mb, real service processes.
Writes answer a clear 503 with Retry-After (never a 500, never a crash); nothing is half-written;
reads keep working; the service recovers on its own once memory is freed."""

from __future__ import annotations

import httpx
import pytest

from tests.hardening.procs import processes
from tests.support.binaries import require_binary
from tests.support.redis_proc import RedisProcess

pytestmark = pytest.mark.real

LINE = ('10.0.0.{c}:4000 [22/Nov/2026:{h:02d}:{m:02d}:17.032] fe be{b}/app{s} 0/0/1/7/{ta} {status} 185 - - ---- '
        '1/1/0/0/0 0/0 "GET /a HTTP/1.1"')


def _batch(i: int, size: int = 400) -> str:
    # every batch a new hour-minute and new backends: each one needs new keys (memory grows)
    return "\n".join(LINE.format(c=j % 250, h=(i // 60) % 24, m=i % 60, b=(i * 7 + j) % 40, s=j % 9,
                                 ta=(j * 37) % 5000, status=(200, 404, 503)[j % 3]) for j in range(size))


def _total(url: str) -> int:
    r = httpx.get(url + "/metrics/overview", params={"window": "24h", "end": "2026-11-23T00:00:00Z"}, timeout=30)
    r.raise_for_status()
    return int(r.json()["total_requests"])


def test_ingestion_at_maxmemory_answers_503_and_recovers() -> None:
    full = RedisProcess(require_binary("redis-server"),
                        extra=["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]).start()
    try:
        with processes() as start:
            svc = start("ingestion-service", {"REDIS_URL": full.url, "NAME_CAP": "1000"})
            acked = 0
            refused = None
            for i in range(400):
                r = httpx.post(svc.url + "/logs", content=_batch(i), headers={"Content-Type": "text/plain"}, timeout=30)
                if r.status_code == 202:
                    acked += r.json()["accepted"]
                    continue
                refused = r
                break
            assert refused is not None, "2 MB never filled up: the test proves nothing"
            assert refused.status_code == 503, refused.text
            assert "full" in refused.json()["detail"] or "maxmemory" in refused.json()["detail"]
            assert refused.headers["Retry-After"].isdigit()
            # still alive, still answering reads, and what was acknowledged is exactly what is counted
            again = httpx.post(svc.url + "/logs", content=_batch(999), headers={"Content-Type": "text/plain"}, timeout=30)
            assert again.status_code == 503
            assert httpx.get(svc.url + "/health").status_code == 200
            assert _total(svc.url) == acked
            metrics = httpx.get(svc.url + "/prometheus/metrics").text
            assert "oncall_ingest" in metrics

            full.client().config_set("maxmemory", "64mb")  # the operator frees memory
            r = httpx.post(svc.url + "/logs", content=_batch(1000), headers={"Content-Type": "text/plain"}, timeout=30)
            assert r.status_code == 202, r.text
            assert _total(svc.url) == acked + 400
            assert svc.proc is not None and svc.proc.poll() is None
            assert "Traceback" not in svc.logs()
    finally:
        full.stop()


def test_notifier_and_agent_at_maxmemory_refuse_writes_cleanly() -> None:
    full = RedisProcess(require_binary("redis-server"),
                        extra=["--maxmemory", "1mb", "--maxmemory-policy", "noeviction"]).start()
    try:
        client = full.client()
        client.config_set("maxmemory", "0")
        client.set("ballast", "x" * 3_000_000)
        client.config_set("maxmemory", "2mb")  # now over the limit: every write is refused
        with processes() as start:
            notifier = start("notifier-service", {"REDIS_URL": full.url, "WORKER_ENABLED": "false"})
            agent = start("agent-service", {"REDIS_URL": full.url, "LLM_ENGINE": "rules",
                                            "INGESTION_URL": "http://127.0.0.1:9", "NOTIFIER_URL": notifier.url})
            notify = {"idempotency_key": "full-1", "incident_id": 1, "event": "opened", "severity": "critical",
                      "title": "t", "summary": "s", "report_markdown": "", "url": "", "to": []}
            n = httpx.post(notifier.url + "/notify", json=notify, timeout=30)
            created = httpx.post(agent.url + "/incidents", json={"title": "db down", "severity": "critical"}, timeout=30)
            for r in (n, created):
                assert r.status_code == 503, r.text
                assert r.headers.get("Retry-After")
            client.delete("ballast")
            assert int(client.info("memory")["used_memory"]) < 2 * 1024 * 1024
            assert httpx.post(notifier.url + "/notify", json=notify, timeout=30).status_code == 202
            assert httpx.post(agent.url + "/incidents", json={"title": "db down", "severity": "critical"},
                              timeout=30).status_code == 201
            for proc in (notifier, agent):
                assert proc.proc is not None and proc.proc.poll() is None
    finally:
        full.stop()

"""The compose demo's backend (monitoring/demo/backend.py) and load generator, as real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.harness import start_demo_backend

REPO = Path(__file__).resolve().parents[2]


def test_latency_and_error_rate_change_at_run_time_per_route(tmp_path: Path) -> None:
    backend = start_demo_backend(tmp_path)
    try:
        url = f"http://127.0.0.1:{backend.port}"
        assert {httpx.get(f"{url}/api/x", timeout=5).status_code for _ in range(20)} == {200}

        assert backend.set(route="api", error_rate=1, error_status=502, latency_ms=300, jitter_ms=0)["api"] == {
            "latency_ms": 300.0, "jitter_ms": 0.0, "error_rate": 1.0, "error_status": 502}
        slow = httpx.get(f"{url}/api/orders", timeout=5)
        assert slow.status_code == 502 and slow.elapsed.total_seconds() >= 0.25
        assert httpx.get(f"{url}/web/", timeout=5).status_code == 200  # other routes unaffected
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200

        for bad in ({"error_rate": "2"}, {"error_status": "200"}, {"latency_ms": "-1"}, {"colour": "red"}):
            response = httpx.post(f"{backend.admin_url}/state", params={"route": "api", **bad}, timeout=5)
            assert response.status_code == 400 and "error" in response.json()

        assert httpx.post(f"{backend.admin_url}/reset", timeout=5).json() == {
            "*": {"latency_ms": 20.0, "jitter_ms": 10.0, "error_rate": 0.0, "error_status": 503}}
        assert httpx.get(f"{url}/api/orders", timeout=5).status_code == 200
    finally:
        backend.proc.stop()


def test_loadgen_sends_the_requested_rate(tmp_path: Path) -> None:
    backend = start_demo_backend(tmp_path)
    try:
        result = subprocess.run(
            [sys.executable, str(REPO / "monitoring" / "demo" / "loadgen.py"), "--url",
             f"http://127.0.0.1:{backend.port}", "--rps", "40", "--duration", "1.5"],
            capture_output=True, text=True, timeout=30, check=True)
        sent = int(result.stdout.split("sent ")[1].split()[0])
        assert 50 <= sent <= 70, result.stdout
    finally:
        backend.proc.stop()

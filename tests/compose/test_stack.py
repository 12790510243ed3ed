"""The compose stack built and run on a real Docker engine: `make compose-test` (scripts/compose_test.sh
prepares the engine and the stand-in images, then runs this module with COMPOSE_TEST=1).

From a copy of the working tree with `.env` made from `.env.example` (tokens filled in, nothing else):
`make up` (its file-based secret, then `compose up -d --build`) for every service except Grafana,
every healthcheck passes, our images run as the non-root user, Prometheus scrapes the three services
inside the compose network; failing HAProxy lines are posted to ingestion, an alert is fired through
Alertmanager's API, and the incident email — Alertmanager → agent (bearer token from the secret
file) → notifier → SMTP without AUTH — reaches the mail inbox's HTTP API; a batch ingestion
acknowledged (it waits for one replica) is already on redis-replica. Then `compose down -v`.
It prints one figure line; nothing is asserted on time.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from ingestion_service.store.keys import idempotency_key
from tests.e2e.harness import wait_until

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
from incident_replay import Plan, incident_lines  # noqa: E402

pytestmark = [
    pytest.mark.real,
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.environ.get("COMPOSE_TEST") != "1", reason="run by make compose-test (needs a Docker engine)"),
]

OURS = ("ingestion", "notifier", "agent")
# Grafana has no image or package this machine can get; it stays in the compose file for users.
STARTED = ("redis", "redis-replica", "redis-state", "mailpit", "ingestion", "notifier", "agent", "alertmanager", "prometheus")
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".bench",
                                     ".demo", ".run", ".env", ".secrets", "node_modules")


@dataclass
class Stack:
    root: Path
    compose: list[str]
    env: dict[str, str]
    cold_start_s: float

    def run(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*self.compose, *args], cwd=self.root, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(self.compose + list(args))}: {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def container(self, service: str) -> str:
        return self.run("ps", "-q", service).stdout.strip()

    def inspect(self, service: str) -> dict:
        out = subprocess.run(["docker", "inspect", self.container(service)], capture_output=True, text=True,
                             check=True, timeout=30).stdout
        return json.loads(out)[0]

    def health(self) -> dict[str, str]:
        found = {}
        for service in STARTED:
            cid = self.container(service)
            state = self.inspect(service)["State"] if cid else {}
            found[service] = state.get("Health", {}).get("Status", state.get("Status", "absent"))
        return found

    def logs(self) -> str:
        return self.run("logs", "--tail", "30", check=False).stdout[-6000:]


def compose_command() -> list[str]:
    return shlex.split(os.environ.get("COMPOSE", "docker-compose"))


def make_env(root: Path) -> dict[str, str]:
    """.env as the README says: .env.example copied, the tokens it asks for filled in."""
    tokens = {name: secrets.token_urlsafe(24) for name in ("ALERTS_TOKEN", "GRAFANA_ADMIN_PASSWORD", "INGEST_TOKEN",
                                                          "API_TOKEN", "NOTIFIER_TOKEN")}
    lines = []
    for line in (root / ".env.example").read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={tokens[key]}" if key in tokens and not line.startswith("#") else line)
    (root / ".env").write_text("\n".join(lines) + "\n")
    return tokens


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("compose") / "oncall-copilot"
    shutil.copytree(REPO, root, ignore=COPY_IGNORE)
    env = make_env(root)
    compose = [*compose_command(), "-p", "oncallcomposetest"]
    stack = Stack(root, compose, env, 0.0)
    try:
        build_started = time.monotonic()
        stack.run("build", *OURS, timeout=900)
        build_s = time.monotonic() - build_started
        started = time.monotonic()
        up = subprocess.run(["make", "up", f"COMPOSE={shlex.join(compose)}", f"SERVICES={' '.join(STARTED)}"],
                            cwd=root, capture_output=True, text=True, timeout=600, check=False)
        assert up.returncode == 0, up.stdout + up.stderr
        wait_until(lambda: set(stack.health().values()) == {"healthy"}, timeout=180, interval=0.5,
                   what="every service healthy", details=lambda: f"{stack.health()}\n{stack.logs()}")
        stack.cold_start_s = time.monotonic() - started
        print(f"\ncompose: images built in {build_s:.1f} s; make up -> all healthy in {stack.cold_start_s:.1f} s")
        yield stack
    finally:
        down = stack.run("down", "-v", "--remove-orphans", timeout=300, check=False)
        print(f"compose: down -v -> {down.returncode}")


def test_secret_file_comes_from_env_and_is_readable_by_alertmanager_only_through_the_mount(stack: Stack) -> None:
    secret = stack.root / ".secrets" / "alerts_token"
    assert secret.read_text() == stack.env["ALERTS_TOKEN"]
    assert (secret.parent.stat().st_mode & 0o777) == 0o700
    inside = stack.run("exec", "-T", "alertmanager", "cat", "/run/secrets/alerts_token").stdout
    assert inside == stack.env["ALERTS_TOKEN"]


@pytest.mark.parametrize("service", OURS)
def test_our_images_run_as_the_unprivileged_user(stack: Stack, service: str) -> None:
    assert stack.inspect(service)["Config"]["User"] == "10001:10001"
    assert stack.run("exec", "-T", service, "id", "-u").stdout.strip() == "10001"


def test_prometheus_scrapes_the_services_inside_the_compose_network(stack: Stack) -> None:
    def targets() -> dict[str, str]:
        data = httpx.get("http://127.0.0.1:9090/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        return {target["labels"]["job"]: target["health"] for target in data}

    wanted = {"oncall-ingestion", "oncall-agent", "oncall-notifier", "alertmanager", "prometheus"}
    found = wait_until(lambda: (t := targets()) and all(t.get(job) == "up" for job in wanted) and t,
                       timeout=60, interval=1, what="every scrape target up", details=lambda: str(targets()))
    assert wanted <= set(found)


def test_failing_traffic_and_an_alert_end_in_an_email(stack: Stack) -> None:
    mail = "http://127.0.0.1:8025/api/v1/messages"
    assert httpx.get(mail, timeout=5).json()["total"] == 0
    plan = Plan(minutes=10, bad_minutes=4, per_minute=40)
    lines = incident_lines(plan)
    first_failing = time.monotonic()
    posted = httpx.post("http://127.0.0.1:8000/logs", content="\n".join(lines), timeout=30,
                        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {stack.env['INGEST_TOKEN']}"})
    assert posted.status_code == 202, posted.text
    assert posted.json()["accepted"] == len(lines)
    unauthorised = httpx.post("http://127.0.0.1:8000/logs", content=lines[0], timeout=10,
                              headers={"Content-Type": "text/plain"})
    assert unauthorised.status_code == 401

    now = datetime.now(timezone.utc)
    alert = [{
        "labels": {"alertname": "BackendHigh5xxRate", "backend": plan.bad_backend, "severity": "critical"},
        "annotations": {"summary": f"5xx rate high on {plan.bad_backend}"},
        # as Prometheus sends it when the rule starts firing: Alertmanager then holds the new group
        # for group_wait (an older startsAt would be flushed at once)
        "startsAt": now.isoformat(),
    }]
    fired = httpx.post("http://127.0.0.1:9093/api/v2/alerts", json=alert, timeout=10)
    assert fired.status_code == 200, fired.text

    # Alertmanager waits group_wait (30 s) and then calls the agent with the token from the secret
    def inbox() -> list[dict]:
        return httpx.get(mail, timeout=5).json()["messages"]

    (message, *_) = wait_until(inbox, timeout=150, interval=0.5, what="the incident email in the inbox",
                               details=stack.logs)
    to_email = time.monotonic() - first_failing
    assert [to["Address"] for to in message["To"]] == ["oncall@localhost"]
    assert plan.bad_backend in message["Subject"]
    full = httpx.get(f"http://127.0.0.1:8025/api/v1/message/{message['ID']}", timeout=5).json()
    assert plan.bad_backend in full["Text"]

    incidents = httpx.get("http://127.0.0.1:8001/incidents", timeout=10,
                          headers={"Authorization": f"Bearer {stack.env['API_TOKEN']}"})
    assert incidents.status_code == 200, incidents.text
    assert incidents.text.count(plan.bad_backend) >= 1
    assert "5xx" in full["Text"] or "error" in full["Text"].lower()

    sizes = {}
    for service in OURS:
        image = stack.inspect(service)["Image"]
        size = json.loads(subprocess.run(["docker", "image", "inspect", image], capture_output=True, text=True,
                                         check=True, timeout=30).stdout)[0]["Size"]
        sizes[service] = f"{size / 1e6:.0f} MB"
    healthy = sum(status == "healthy" for status in stack.health().values())
    print(f"\ncompose-test: {healthy}/{len(STARTED)} services healthy in {stack.cold_start_s:.1f} s; "
          f"first failing request -> email {to_email:.1f} s; image sizes "
          + ", ".join(f"{name} {size}" for name, size in sizes.items()))


def test_acknowledged_lines_are_already_on_the_redis_replica(stack: Stack) -> None:
    """Ingestion runs with REDIS_WAIT_REPLICAS=1 (docs/cluster.md): a 202 means redis-replica holds
    the batch, so it is read there at once, with no polling. Healthy traffic, after the email test."""
    def redis_cli(service: str, *args: str) -> str:
        return stack.run("exec", "-T", service, "redis-cli", *args, timeout=60).stdout.strip()

    key = f"compose-replica-{secrets.token_hex(4)}"
    lines = incident_lines(Plan(minutes=2, bad_minutes=0, per_minute=20))
    posted = httpx.post("http://127.0.0.1:8000/logs", content="\n".join(lines), timeout=30,
                        headers={"Content-Type": "text/plain", "Idempotency-Key": key,
                                 "Authorization": f"Bearer {stack.env['INGEST_TOKEN']}"})
    assert posted.status_code == 202, posted.text
    assert redis_cli("redis-replica", "exists", idempotency_key(key)) == "1"
    assert "master_link_status:up" in redis_cli("redis-replica", "info", "replication")
    assert "cmdstat_wait:calls=" in redis_cli("redis", "info", "commandstats")  # the batch waited

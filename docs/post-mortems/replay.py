"""Produce the post-mortems in this folder from replayed incidents, with the project's own code.

    .venv/bin/python docs/post-mortems/replay.py [--out docs/post-mortems]

Starts a real redis-server, ingestion-service (signals in DB 0) and agent-service (incidents and
reports in DB 1, LLM_ENGINE=rules unless --engine anthropic) on free loopback ports, plus a small
notifier that records calls. For each replay: generate the scenario's HAProxy lines
(tests/scenarios, ending now), POST them to ingestion, POST an Alertmanager webhook whose startsAt
is when a real rule would have fired, wait for the analysis, act as the on-call engineer (note,
then the resolved webhook, then RESOLVED with root cause and resolution), and save
GET /incidents/{id}/postmortem. The last replay repeats the first outage to show the memory of
past incidents at work (similar_incidents in its report).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import redis

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from scripts.local_stack import wait_until  # noqa: E402
from tests.agent.incidents.support import FakeNotifier  # noqa: E402
from tests.scenarios.generator import generate  # noqa: E402
from tests.scenarios.model import SCENARIO_DIR, load_scenario, seconds  # noqa: E402
from tests.scenarios.replay import ingest_http  # noqa: E402
from tests.support.redis_proc import RedisProcess  # noqa: E402
from tests.support.servers import ServiceProcess, serve_app  # noqa: E402


@dataclass(frozen=True)
class Replay:
    scenario: str
    alertname: str
    fire_after_s: float  # after the first phase starts: the rule's `for:` plus evaluation
    note: str
    root_cause: str
    resolution: str
    action_items: tuple[str, ...]


REPLAYS = [
    Replay("deploy-regression", "BackendErrorRateHigh", 120,
           "Acknowledged. 5xx and P99 up on be_api since the v2.31 rollout; checking the deploy.",
           "Release v2.31 of the API made be_api about six times slower and a quarter of its requests "
           "failed with 500/502.", "Rolled be_api back to v2.30; error rate and P99 back to baseline.",
           ("Canary every API release on one server before the pool", "Alert on P99 per release version")),
    Replay("slow-dependency-queueing", "BackendQueueBuilding", 180,
           "Acknowledged. be_orders requests wait in the HAProxy queue; the orders database looks slow.",
           "The orders database slowed down; be_orders servers held their connections longer, hit "
           "maxconn and requests queued in HAProxy.",
           "Failed the orders database over to its replica; the queue drained within two minutes.",
           ("Add a database latency alert ahead of the HAProxy queue alert",)),
    Replay("nosrv-all-servers-down", "BackendNoServerAvailable", 60,
           "Acknowledged. HAProxy reports no server available for be_payments.",
           "Both be_payments servers failed their health checks; HAProxy answered 503 <NOSRV>.",
           "Restarted pay1 and pay2; health checks pass again.",
           ("Find why both payment servers failed their checks at once",)),
    Replay("deploy-regression", "BackendErrorRateHigh", 120,
           "Acknowledged. Same symptoms as the v2.31 rollout last time.",
           "The v2.31 release was rolled out again without its fix: same slowdown and errors on be_api.",
           "Rolled be_api back to v2.30 again, as in the earlier incident.",
           ("Block re-deploying a release that was rolled back until it has a fix",)),
]


def webhook(replay: Replay, backend: str, starts_at: datetime, *, resolved_at: datetime | None) -> dict[str, Any]:
    labels = {"alertname": replay.alertname, "backend": backend, "severity": "page"}
    status = "resolved" if resolved_at else "firing"
    return {
        "version": "4", "groupKey": f'{{}}:{{backend="{backend}"}}', "truncatedAlerts": 0, "status": status,
        "receiver": "oncall-agent", "groupLabels": {"backend": backend}, "commonLabels": labels,
        "commonAnnotations": {"summary": f"{replay.alertname} on {backend}"}, "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": status, "labels": labels, "annotations": {"summary": f"{replay.alertname} on {backend}"},
            "startsAt": starts_at.isoformat().replace("+00:00", "Z"),
            "endsAt": (resolved_at.isoformat().replace("+00:00", "Z") if resolved_at else "0001-01-01T00:00:00Z"),
            "generatorURL": "http://prometheus:9090/graph", "fingerprint": secrets.token_hex(8),
        }],
    }


def run(out: Path, engine: str) -> None:
    redis_proc = RedisProcess("/usr/bin/redis-server").start()
    notifier = FakeNotifier()
    processes: list[ServiceProcess] = []
    api, alerts = secrets.token_hex(8), secrets.token_hex(8)
    try:
        with serve_app(notifier.app) as notifier_url:
            ingestion = ServiceProcess("ingestion-service", {"REDIS_URL": redis_proc.url, "LOG_LEVEL": "WARNING"})
            processes.append(ingestion)
            ingestion.start(ready_path="/health/ready")
            agent = ServiceProcess("agent-service", {
                "REDIS_URL": redis_proc.url.removesuffix("/0") + "/1", "INGESTION_URL": ingestion.url,
                "NOTIFIER_URL": notifier_url, "LLM_ENGINE": engine, "API_TOKEN": api, "ALERTS_TOKEN": alerts,
                "LOG_LEVEL": "WARNING"})
            processes.append(agent)
            agent.start()
            client = httpx.Client(base_url=agent.url, timeout=60, headers={"Authorization": f"Bearer {api}"})
            for replay in REPLAYS:
                redis.Redis.from_url(redis_proc.url).flushdb()  # signals only: incidents live in DB 1
                scenario = load_scenario(SCENARIO_DIR / f"{replay.scenario}.yaml")
                end = time.time()
                generated = generate(scenario, end=end)
                ingest_http(generated.lines("raw"), ingestion.url, request_id=f"pm-{replay.scenario}")
                start = datetime.fromtimestamp(end - seconds(scenario.duration), tz=UTC)
                phase = scenario.phases[0]
                backend = phase.backend or scenario.baseline.backends[0].name
                starts_at = start + timedelta(seconds=seconds(phase.start) + replay.fire_after_s)
                hook = {"Authorization": f"Bearer {alerts}"}
                firing = webhook(replay, backend, starts_at, resolved_at=None)
                accepted = client.post("/alerts", json=firing, headers=hook)
                accepted.raise_for_status()
                incident_id = accepted.json()["incident_ids"][0]

                def settled(status: str) -> dict[str, Any] | None:
                    response = client.get(f"/incidents/{incident_id}")
                    if response.status_code == 404:  # the worker has not created it yet
                        return None
                    body = response.raise_for_status().json()
                    return body if body["status"] == status and not body["pending"] else None

                wait_until(lambda: settled("INVESTIGATING"), timeout=120, what=f"incident {incident_id} analysed")
                client.post(f"/incidents/{incident_id}/notes", json={"text": replay.note, "actor": "oncall-replay"})
                resolved = webhook(replay, backend, starts_at, resolved_at=datetime.now(UTC))
                resolved["alerts"][0]["fingerprint"] = firing["alerts"][0]["fingerprint"]
                client.post("/alerts", json=resolved, headers=hook).raise_for_status()
                wait_until(lambda: settled("MITIGATED"), timeout=60, what=f"incident {incident_id} mitigated")
                for item in replay.action_items:
                    client.post(f"/incidents/{incident_id}/notes",
                                json={"text": item, "actor": "oncall-replay", "kind": "action_item"})
                client.post(f"/incidents/{incident_id}/status", json={
                    "status": "RESOLVED", "actor": "oncall-replay", "root_cause": replay.root_cause,
                    "resolution": replay.resolution}).raise_for_status()
                text = client.get(f"/incidents/{incident_id}/postmortem").text
                name = f"{datetime.now(UTC):%Y-%m-%d}-incident-{incident_id}-{replay.scenario}.md"
                (out / name).write_text(text)
                print(f"wrote {out / name}")
            print(f"notifications recorded: {[(c['incident_id'], c['event']) for c in notifier.sent]}")
    finally:
        for process in reversed(processes):
            process.stop()
        redis_proc.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--engine", choices=["rules", "anthropic"], default="rules")
    args = parser.parse_args(argv)
    run(args.out, args.engine)


if __name__ == "__main__":
    main()

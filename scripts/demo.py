"""`make demo`: the whole product on this machine, no Docker, no API key.

Starts redis-server (temp dir), ingestion, agent (LLM_ENGINE=rules) and notifier on free ports
and an aiosmtpd SMTP sink; replays an incident (30 minutes of HAProxy httplog lines ending now:
be_checkout goes bad in the last 10 — P99 and 5xx up, requests queueing); prints the golden
signals, the agent's IncidentReport as markdown, then plays Alertmanager (firing, then resolved)
and prints the emails the on-call engineer receives, beside the Slack and Telegram messages the
notifier sends (to a local stand-in of both APIs, scripts/chat_sink.py). Stops everything it
started, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from incident_replay import Plan, incident_lines  # noqa: E402
from chat_sink import ChatSink, slack_as_text, telegram_as_text  # noqa: E402
from local_stack import REPO, LocalStack, Mail, handle_signals, wait_until  # noqa: E402

BATCH = 1000
RULE = "=" * 78


def say(text: str = "") -> None:
    print(text, flush=True)


def section(title: str) -> None:
    say()
    say(RULE)
    say(title)
    say(RULE)


def replay(ingestion: str, plan: Plan) -> None:
    lines = incident_lines(plan)
    totals = {"accepted": 0, "rejected": 0, "skipped": 0}
    with httpx.Client(timeout=30.0) as client:
        for i in range(0, len(lines), BATCH):
            response = client.post(f"{ingestion}/logs", content="\n".join(lines[i:i + BATCH]),
                                   headers={"Content-Type": "text/plain", "Idempotency-Key": f"demo-{plan.seed}-{i}"})
            response.raise_for_status()
            for key in totals:
                totals[key] += int(response.json()[key])
    say(f"POST /logs: {len(lines)} HAProxy lines ({plan.minutes} min, 2 backends, {plan.bad_backend} bad for the "
        f"last {plan.bad_minutes} min) -> accepted {totals['accepted']}, rejected {totals['rejected']}, "
        f"skipped {totals['skipped']}")


def print_signals(ingestion: str) -> None:
    with httpx.Client(timeout=10.0) as client:
        backends = client.get(f"{ingestion}/metrics/backends", params={"window": "10m"}).json()["backends"]
        say(f"{'backend':<14}{'requests':>10}{'5xx %':>9}{'p95 ms':>10}{'p99 ms':>10}   (last 10 minutes)")
        for row in backends:
            say(f"{row['name']:<14}{row['requests']:>10}{row['error_rate_5xx_pct']:>9.1f}"
                f"{row['p95_ms']:>10.0f}{row['p99_ms']:>10.0f}")
        sat = client.get(f"{ingestion}/metrics/saturation", params={"window": "10m"}).json()
        haproxy = sat["haproxy"]
        say(f"saturation: max srv_queue {haproxy['max_srv_queue']}, queued requests {haproxy['queued_requests']}, "
            f"max actconn {haproxy['max_actconn']}; redis {sat['redis']['used_memory_bytes'] / 1e6:.1f} MB used")


def webhook(status: str, backend: str, started: datetime, ended: datetime | None) -> dict[str, Any]:
    """What Alertmanager POSTs for the High5xxRate rule of monitoring/alert-rules.yml (version 4)."""
    labels = {"alertname": "High5xxRate", "backend": backend, "severity": "critical"}
    annotations = {"summary": f"25% of requests to backend {backend} fail with 5xx",
                   "description": "More than 5% of responses over 5m were 5xx, for 2 minutes.",
                   "runbook_url": "monitoring/runbooks/high-5xx-rate.md"}
    return {
        "version": "4", "status": status, "receiver": "oncall-agent", "truncatedAlerts": 0,
        "groupKey": f'{{}}:{{backend="{backend}"}}', "groupLabels": {"backend": backend},
        "commonLabels": labels, "commonAnnotations": annotations, "externalURL": "http://alertmanager.demo:9093",
        "alerts": [{
            "status": status, "labels": labels, "annotations": annotations,
            "startsAt": started.isoformat().replace("+00:00", "Z"),
            "endsAt": (ended.isoformat().replace("+00:00", "Z") if ended else "0001-01-01T00:00:00Z"),
            "generatorURL": "http://prometheus.demo:9090/graph", "fingerprint": "d3m0c0ffee000001",
        }],
    }


def print_mail(mail: Mail, limit: int = 40) -> None:
    say(f"To: {', '.join(mail.rcpt_tos)}")
    say(f"Subject: {mail.subject}")
    say("-" * 40)
    lines = mail.text().strip().splitlines()
    for line in lines[:limit]:
        say(line)
    if len(lines) > limit:
        say(f"... ({len(lines) - limit} more lines)")


def print_chat(chat: ChatSink, index: int, limit: int = 30) -> None:
    for name, messages, as_text in (("Slack (incoming webhook, Block Kit)", chat.slack, slack_as_text),
                                    ("Telegram (sendMessage, HTML)", chat.telegram, telegram_as_text)):
        say()
        say(f"--- {name} ---")
        if len(messages) <= index:
            say("(nothing received yet)")
            continue
        lines = as_text(messages[index])
        for line in lines[:limit]:
            say(line)


def run(workdir: Path) -> None:
    section("Starting the stack (no Docker; LLM_ENGINE=rules, no API key)")
    stack = LocalStack(workdir, log=say)
    alerts_token, notifier_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    chat = ChatSink()
    try:
        redis_url = stack.start_redis()
        sink = stack.start_sink()
        chat.start()
        say(f"  chat stand-in     {chat.url}  (Slack webhook + Telegram Bot API, keeps every message)")
        ingestion = stack.start_service("ingestion-service", {"REDIS_URL": redis_url}, ready_path="/health/ready")
        notifier = stack.start_service("notifier-service", {
            "REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port),
            "EMAIL_TO": "oncall@example.com", "NOTIFIER_TOKEN": notifier_token, **chat.env()},
            ready_path="/health/ready")
        agent = stack.start_service("agent-service", {
            "REDIS_URL": redis_url, "INGESTION_URL": ingestion, "NOTIFIER_URL": notifier,
            "NOTIFIER_TOKEN": notifier_token, "ALERTS_TOKEN": alerts_token, "LLM_ENGINE": "rules",
            "RUNBOOKS_DIR": str(Path(__file__).resolve().parents[1] / "monitoring" / "runbooks")})

        section("1. Replaying an incident into ingestion-service")
        plan = Plan()
        replay(ingestion, plan)
        say()
        print_signals(ingestion)

        section("2. POST /analyze?format=markdown  (four specialists, rules engine)")
        response = httpx.post(f"{agent}/analyze", params={"format": "markdown"}, json={"window": "15m"}, timeout=120)
        response.raise_for_status()
        say(response.text.strip())

        section(f"3. Alertmanager fires High5xxRate for {plan.bad_backend} -> incident -> email")
        started = datetime.now(UTC)
        headers = {"Authorization": f"Bearer {alerts_token}"}
        fired = httpx.post(f"{agent}/alerts", json=webhook("firing", plan.bad_backend, started, None),
                           headers=headers, timeout=10)
        fired.raise_for_status()
        (incident_id,) = fired.json()["incident_ids"]
        say(f"POST /alerts (firing) -> 202, incident {incident_id}")
        mail = wait_until(lambda: sink.received()[:1], timeout=60, what="the incident email")[0]
        incident = httpx.get(f"{agent}/incidents/{incident_id}", timeout=10).json()
        say(f"incident {incident_id}: {incident['status']}, severity {incident['severity']}, "
            f"{len(incident['reports'])} report(s)")
        say()
        print_mail(mail)
        wait_until(lambda: chat.slack[:1] and chat.telegram[:1], timeout=60, what="the chat messages")
        print_chat(chat, 0)

        section("4. The backend recovers: Alertmanager sends resolved -> MITIGATED -> email")
        resolved = httpx.post(f"{agent}/alerts", json=webhook("resolved", plan.bad_backend, started,
                                                               datetime.now(UTC)), headers=headers, timeout=10)
        resolved.raise_for_status()
        second = wait_until(lambda: sink.received()[1:2], timeout=60, what="the mitigated email")[0]
        def moved_on() -> str | None:
            status = httpx.get(f"{agent}/incidents/{incident_id}", timeout=10).json()["status"]
            return status if status in ("MITIGATED", "RESOLVED") else None

        status = wait_until(moved_on, timeout=30, what="MITIGATED")
        say(f"POST /alerts (resolved) -> 202; incident {incident_id}: {status}")
        say()
        print_mail(second, limit=15)
        wait_until(lambda: chat.slack[1:2] and chat.telegram[1:2], timeout=60, what="the mitigated chat messages")
        print_chat(chat, 1, limit=12)

        section("Done")
        say(f"{len(sink.received())} email(s), {len(chat.slack)} Slack and {len(chat.telegram)} Telegram message(s) "
            "received. Next: `make run` keeps the stack up (curl examples in "
            "README.md); `make up` starts it with Prometheus, Alertmanager and Grafana in Docker.")
    except KeyboardInterrupt:
        say("\ninterrupted")
        raise
    except Exception:
        for name in ("ingestion-service", "agent-service", "notifier-service"):
            tail = stack.logs(name, 1500)
            if tail:
                say(f"--- last lines of {name}.log ---\n{tail}")
        raise
    finally:
        section("Stopping everything the demo started")
        chat.stop()
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="oncall-copilot demo (no Docker, no API key)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with the logs")
    args = parser.parse_args(argv)
    handle_signals()
    (REPO / ".demo").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=REPO / ".demo"))
    try:
        run(workdir)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        if args.keep:
            say(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

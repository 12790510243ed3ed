"""`make demo` (scripts/demo.py) end to end: real redis-server, the three services, an aiosmtpd
sink; checks what it prints and that it leaves no process behind, also when interrupted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.binaries import require_binary

REPO = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, str(REPO / "scripts" / "demo.py")]

pytestmark = [pytest.mark.real, pytest.mark.slow]


def stopped_pids(output: str) -> dict[str, int]:
    return {name: int(pid) for name, pid in re.findall(r"stopped (\S+) \(pid (\d+)\)", output)}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive; our children are reaped by the demo before it exits
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def test_demo_runs_the_incident_end_to_end() -> None:
    require_binary("redis-server")
    result = subprocess.run(DEMO, capture_output=True, text=True, timeout=240, cwd=REPO, check=False)
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-4000:]

    # replay: every generated line accepted
    match = re.search(r"POST /logs: (\d+) HAProxy lines .* accepted (\d+), rejected (\d+), skipped (\d+)", out)
    assert match, out[:3000]
    total, accepted, rejected, skipped = map(int, match.groups())
    assert total == 3600 and accepted == total and rejected == 0 and skipped == 0
    # golden signals: the bad backend has 5xx and a high P99, the good one does not
    rows = dict(re.findall(r"^(be_\w+)\s+(\d+\s+[\d.]+\s+\d+\s+\d+)$", out, re.M))
    checkout = [float(x) for x in rows["be_checkout"].split()]
    catalog = [float(x) for x in rows["be_catalog"].split()]
    assert checkout[1] > 10 and catalog[1] < 2, rows
    assert checkout[3] > 1000 > catalog[3], rows

    # the report as markdown, naming the failing backend, critical
    report = out.split("POST /analyze?format=markdown")[1].split("3. Alertmanager fires")[0]
    assert "be_checkout" in report
    assert re.search(r"critical", report, re.I)
    assert "engine rules" in report
    assert re.search(r"^\d\. Follow runbook \w+ › First checks \(runbooks/[a-z0-9-]+\.md\)\.$", report, re.M), report
    # the alert's runbook_url names the runbook the incident's email cites
    assert "Follow runbook High5xxRate › First checks (runbooks/high-5xx-rate.md)." in out.split("3. Alertmanager fires")[1]

    # incident + the two emails
    assert re.search(r"POST /alerts \(firing\) -> 202, incident \d+", out)
    subjects = re.findall(r"^Subject: (.*)$", out, re.M)
    assert len(subjects) == 2, subjects
    assert all("be_checkout" in subject for subject in subjects)
    assert "opened" in subjects[0] and "mitigated" in subjects[1].lower()
    assert re.search(r"incident \d+: MITIGATED", out)
    assert "2 email(s), 2 Slack and 2 Telegram message(s) received" in out
    slack = out.split("--- Slack (incoming webhook, Block Kit) ---", 1)[1]
    assert re.search(r"\[Acknowledge  action_id=ack value=\d+\]", slack) and "*First steps*" in slack
    assert "(chat_id -1001234567890, parse_mode HTML)" in out.split("--- Telegram (sendMessage, HTML) ---", 1)[1]

    # everything stopped
    pids = stopped_pids(out)
    assert set(pids) == {"redis", "ingestion-service", "notifier-service", "agent-service"}
    assert "stopped the SMTP sink" in out
    assert not [name for name, pid in pids.items() if alive(pid)]


def test_demo_stops_everything_on_interrupt() -> None:
    require_binary("redis-server")
    proc = subprocess.Popen(DEMO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        lines.append(line)
        if "agent-service" in line and "http://127.0.0.1" in line:
            break  # the stack is up
        assert time.monotonic() < deadline, "".join(lines)
    proc.send_signal(signal.SIGINT)  # Ctrl-C, to the demo only: it must stop its children itself
    rest, _ = proc.communicate(timeout=60)
    out = "".join(lines) + rest
    assert proc.returncode == 130, out[-3000:]
    assert "Stopping everything the demo started" in out
    pids = stopped_pids(out)
    assert {"redis", "ingestion-service", "notifier-service", "agent-service"} <= set(pids), out[-3000:]
    assert not [name for name, pid in pids.items() if alive(pid)]


def test_run_local_serves_until_interrupted() -> None:
    require_binary("redis-server")
    from tests.support.net import free_port

    ports = [free_port() for _ in range(4)]
    command = [sys.executable, str(REPO / "scripts" / "run_local.py"), "--ingestion-port", str(ports[0]),
               "--agent-port", str(ports[1]), "--notifier-port", str(ports[2]), "--smtp-port", str(ports[3]),
               "--syslog-port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Ready."):
            break
    assert any(line.startswith("Ready.") for line in lines), "".join(lines)
    import httpx

    for port in ports[:3]:
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    report = httpx.post(f"http://127.0.0.1:{ports[1]}/analyze", params={"format": "markdown"}, timeout=60)
    assert report.status_code == 200, report.text
    assert report.text.startswith("# ")  # the markdown report, on an empty store
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    out = "".join(lines) + rest
    assert proc.returncode == 0, out
    pids = stopped_pids(out)
    assert set(pids) == {"redis", "ingestion-service", "notifier-service", "agent-service"}
    assert not [name for name, pid in pids.items() if alive(pid)]

"""`make console-screenshots`: PNGs of the console's main pages in docs/console/, from a real
local stack (redis-server, ingestion- and agent-service; the demo's replayed incident and its
Alertmanager delivery) in Debian's chromium under Playwright (scripts/browser.py). Stops
everything it started."""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser import chromium_path, launched_chromium  # noqa: E402
from demo import replay, webhook  # noqa: E402
from incident_replay import Plan  # noqa: E402
from local_stack import REPO, VENV_BIN, LocalStack, handle_signals, wait_until  # noqa: E402

OUT = REPO / "docs" / "console"
PASSWORD = secrets.token_urlsafe(12)  # this run's users only; the stack is thrown away after
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


def add_user(redis_url: str, name: str, role: str) -> None:
    subprocess.run([str(VENV_BIN / "oncall-admin"), "user", "add", name, "--role", role, "--password-stdin"],  # noqa: S603
                   input=PASSWORD + "\n", text=True, check=True, env={**os.environ, "REDIS_URL": redis_url})


def incident_with_report(agent: str) -> int:
    def ready() -> int | None:
        listed = httpx.get(f"{agent}/incidents", timeout=5).json()["incidents"]
        if listed and httpx.get(f"{agent}/incidents/{listed[0]['id']}", timeout=5).json()["reports"]:
            return int(listed[0]["id"])
        return None

    return int(wait_until(ready, timeout=120, what="the incident's first report"))


def shoot(agent: str, incident_id: int, out: Path) -> list[Path]:
    path = chromium_path()
    if path is None:
        raise SystemExit("chromium is not installed (make setup installs it with apt-get)")
    shots: list[Path] = []
    with launched_chromium(path) as browser:
        page = browser.new_page(viewport=DESKTOP)

        def save(name: str, *, full: bool = True) -> None:
            shots.append(out / f"{name}.png")
            page.screenshot(path=str(shots[-1]), full_page=full)

        page.goto(f"{agent}/console/")
        save("login", full=False)
        page.get_by_label("User name").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/console/incidents")
        page.goto(f"{agent}/console/incidents/{incident_id}")
        page.get_by_role("button", name="Acknowledge").click()
        page.get_by_label("Note", exact=True).fill("rolled back be_checkout to the previous release")
        page.get_by_role("button", name="Add note").click()
        page.goto(f"{agent}/console/incidents")
        save("incidents", full=False)
        page.goto(f"{agent}/console/incidents/{incident_id}")
        page.locator("details.finding").first.evaluate("d => d.open = true")
        save("incident")
        page.goto(f"{agent}/console/ask")
        page.get_by_label("Backend (optional)").fill("be_checkout")
        page.get_by_label("Question (optional)").fill("why does checkout fail?")
        page.get_by_role("button", name="Ask").click()
        page.locator("#ask-progress", has_text="Done in").wait_for(timeout=120_000)
        save("ask")
        page.goto(f"{agent}/console/signals")
        save("signals")
        page.goto(f"{agent}/console/users")
        save("users", full=False)
        phone = browser.new_page(viewport=PHONE)
        phone.context.add_cookies(page.context.cookies())
        phone.goto(f"{agent}/console/incidents/{incident_id}")
        shots.append(out / "incident-phone.png")
        phone.screenshot(path=str(shots[-1]), full_page=False)
    return shots


def run(workdir: Path, out: Path) -> None:
    stack = LocalStack(workdir)
    try:
        redis_url = stack.start_redis()
        ingestion = stack.start_service("ingestion-service", {"REDIS_URL": redis_url}, ready_path="/health/ready")
        agent = stack.start_service("agent-service", {
            "REDIS_URL": redis_url, "INGESTION_URL": ingestion, "NOTIFIER_URL": "", "LLM_ENGINE": "rules",
            "CONSOLE_SECRET": secrets.token_urlsafe(32),
            "RUNBOOKS_DIR": str(REPO / "monitoring" / "runbooks")})
        add_user(redis_url, "ada", "admin")
        add_user(redis_url, "rita", "responder")
        add_user(redis_url, "victor", "viewer")
        plan = Plan()
        replay(ingestion, plan)
        httpx.post(f"{agent}/alerts", json=webhook("firing", plan.bad_backend, datetime.now(UTC), None),
                   timeout=10).raise_for_status()
        out.mkdir(parents=True, exist_ok=True)
        for shot in shoot(agent, incident_with_report(agent), out):
            print(f"wrote {shot.relative_to(REPO)}")
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="screenshots of the web console into docs/console/")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    handle_signals()
    with tempfile.TemporaryDirectory(prefix="console-shots-") as workdir:
        run(Path(workdir), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

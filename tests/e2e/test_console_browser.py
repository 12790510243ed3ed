"""The web console in a real browser (Debian's chromium under Playwright) on a real local stack:
the agent-service process (uvicorn on loopback) and a real redis-server; users created with the
real `oncall-admin` command; the incident from an Alertmanager-shaped POST /alerts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent_service.console import session as sessions
from scripts.browser import launched_chromium
from tests.agent.incidents.support import make_report
from tests.support.browser import require_browser
from tests.support.net import free_port
from tests.support.servers import ServiceProcess

SECRET = "browser-test-console-secret-0123456789"
PASSWORD = "correct horse battery"
ADMIN = Path(sys.executable).parent / "oncall-admin"


def oncall_admin(redis_url: str, *args: str, stdin: str = "") -> None:
    subprocess.run([str(ADMIN), *args], input=stdin, text=True, check=True, timeout=60,  # noqa: S603
                   env={**os.environ, "REDIS_URL": redis_url}, capture_output=True)


def alertmanager_delivery() -> dict[str, object]:
    alert = {"status": "firing", "labels": {"alertname": "CheckoutHigh5xx", "severity": "critical", "backend": "checkout"},
             "annotations": {"summary": "checkout answers 5xx"}, "startsAt": "2026-11-22T14:07:41Z",
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus/graph", "fingerprint": "c0ffee0000000001"}
    return {"receiver": "oncall", "status": "firing", "alerts": [alert], "groupLabels": {"alertname": "CheckoutHigh5xx"},
            "commonLabels": alert["labels"], "commonAnnotations": alert["annotations"], "externalURL": "http://alertmanager",
            "version": "4", "groupKey": '{}:{alertname="CheckoutHigh5xx"}', "truncatedAlerts": 0}


@pytest.fixture
def stack(redis_url: str) -> Iterator[tuple[str, str]]:
    """(agent base URL, the incident's console page)."""
    agent = ServiceProcess("agent-service", {
        "REDIS_URL": redis_url, "LLM_ENGINE": "rules", "INGESTION_URL": "http://127.0.0.1:9", "NOTIFIER_URL": "",
        "CONSOLE_SECRET": SECRET, "LOG_JSON": "false",
        "HAPROXY_RUNTIME_SOCKETS": f"tcp:127.0.0.1:{free_port()}"}).start()  # nothing listens: approvals are dry runs
    try:
        oncall_admin(redis_url, "user", "add", "alice", "--role", "responder", "--password-stdin", stdin=PASSWORD + "\n")
        oncall_admin(redis_url, "user", "add", "victor", "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
        assert httpx.post(agent.url + "/alerts", json=alertmanager_delivery(), timeout=10).status_code == 202
        deadline = time.monotonic() + 30
        while not (listed := httpx.get(agent.url + "/incidents", timeout=5).json()["incidents"]):
            assert time.monotonic() < deadline, "the alert did not open an incident"
            time.sleep(0.1)
        yield agent.url, f"{agent.url}/console/incidents/{listed[0]['id']}"
    finally:
        agent.stop()


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    with launched_chromium(require_browser()) as launched:
        yield launched


def sign_in(page, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/console/")
    assert "/console/login" in page.url
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/incidents")


def test_a_responder_acknowledges_notes_and_resolves_in_the_browser(stack, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base, incident_page = stack
    page = browser.new_page()
    sign_in(page, base, "alice")
    row = page.locator(".incident-row", has_text="CheckoutHigh5xx")
    expect(row).to_contain_text("CRITICAL")
    row.get_by_role("link").click()
    page.wait_for_url(incident_page)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("alert received")

    page.get_by_role("button", name="Acknowledge").focus()  # a real button: the keyboard works it
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("#acknowledged")).to_contain_text("by console:alice")
    expect(timeline).to_contain_text("acknowledged by console:alice")

    page.get_by_label("Note", exact=True).fill("rolled back checkout to v41")
    page.get_by_role("button", name="Add note").click()
    expect(timeline.locator("li", has_text="rolled back checkout to v41")).to_contain_text("console:alice")

    page.get_by_label("New status").select_option("RESOLVED")
    page.get_by_label("Root cause (for MITIGATED / RESOLVED)").fill("bad deploy v42")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#status")).to_have_text("RESOLVED")
    expect(page.locator("#root-cause")).to_have_text("bad deploy v42")
    expect(timeline.locator("li.event-status_changed", has_text="→ RESOLVED")).to_contain_text("console:alice")
    incident = httpx.get(incident_page.replace("/console", ""), timeout=5).json()
    assert [e["kind"] for e in incident["timeline"] if e["actor"] == "console:alice"] == [
        "acknowledged", "note", "status_changed"]


def test_a_viewer_sees_the_timeline_update_live_but_cannot_act(stack, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base, incident_page = stack
    page = browser.new_page(viewport={"width": 360, "height": 740})  # a phone in bed
    errors: list[str] = []  # a script refused by the Content-Security-Policy, or one failing, shows here
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, base, "victor")
    page.goto(incident_page)
    expect(page.locator("h1")).to_contain_text("CheckoutHigh5xx")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(page.locator("form[action$='/notes']")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the screen

    # Someone acts elsewhere (the API): the viewer's timeline shows it without a reload.
    httpx.post(incident_page.replace("/console", "") + "/notes", json={"text": "paging the DB team", "actor": "bob"},
               timeout=5).raise_for_status()
    expect(page.locator("#timeline")).to_contain_text("paging the DB team", timeout=15_000)

    token = page.locator("input[name=csrf]").first.get_attribute("value")
    refused = page.request.post(incident_page + "/ack", form={"csrf": token or ""})
    assert refused.status == 403 and "responder" in refused.text()
    assert httpx.get(incident_page.replace("/console", ""), timeout=5).json()["acknowledged_by"] != "console:victor"
    assert errors == []


def test_a_form_without_its_csrf_token_is_403(stack, browser) -> None:  # type: ignore[no-untyped-def]
    base, incident_page = stack
    page = browser.new_page()
    sign_in(page, base, "alice")
    page.goto(incident_page)
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    page.get_by_role("button", name="Acknowledge").click()
    assert "CSRF" in page.locator("main").inner_text()
    assert page.request.post(incident_page + "/ack", form={"csrf": "forged"}).status == 403
    assert httpx.get(incident_page.replace("/console", ""), timeout=5).json()["acknowledged_by"] is None


def test_old_and_expired_session_cookies_are_refused(stack, browser, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    base, incident_page = stack
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "alice")
    before = context.cookies()
    page.goto(incident_page)
    oncall_admin(redis_url, "user", "set-password", "alice", "--password-stdin", stdin="a whole new password\n")
    # The cookie from before the change is refused: the live timeline's next poll sends the page to sign-in.
    page.wait_for_url("**/console/login?next=%2Fconsole%2Fincidents%2F*", timeout=15_000)

    stale = browser.new_context()
    stale.add_cookies(before)
    stale_page = stale.new_page()
    stale_page.goto(incident_page)
    assert "/console/login" in stale_page.url

    epoch = int(subprocess.run([sys.executable, "-c", (
        "import redis,sys; print(int(redis.Redis.from_url(sys.argv[1]).get('console:epoch:alice')))"), redis_url],
        capture_output=True, text=True, check=True).stdout)
    now = time.time()
    for issued, ttl, works in ((now - 7200, 3600, False), (now, 3600, True)):
        cookie = sessions.encode(sessions.new_session("alice", epoch, now=issued, ttl_s=ttl), SECRET.encode())
        forged = browser.new_context()
        forged.add_cookies([{"name": sessions.COOKIE, "value": cookie, "url": base + "/console/"}])
        forged_page = forged.new_page()
        forged_page.goto(incident_page)
        assert ("/console/login" not in forged_page.url) is works  # expired: refused; current: accepted


def test_ask_the_copilot_shows_the_report_when_it_is_done(stack, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base, _ = stack
    page = browser.new_page()
    sign_in(page, base, "alice")
    page.get_by_role("link", name="Ask the copilot").click()
    page.get_by_label("Window").select_option("30m")
    page.get_by_label("Question (optional)").fill("is checkout <b>down</b>?")
    page.get_by_role("button", name="Ask").click()
    page.wait_for_url("**/console/ask/*")
    progress = page.locator("#ask-progress")
    expect(progress).to_contain_text("Done in", timeout=60_000)  # polled in place while it runs
    expect(progress.locator("article.report")).to_have_count(1)
    expect(page.locator("main")).to_contain_text("is checkout <b>down</b>?")  # shown as text
    # Each specialist's line, then the synthesis's (ingestion is unreachable in this stack: each
    # specialist failed, saying why, and the synthesis still reported).
    steps = progress.locator("ol.steps li")
    expect(steps).to_have_count(5)
    for name in ("latency", "errors", "saturation", "traffic"):
        expect(progress.locator(f'li[data-step="{name}"]')).to_contain_text(re.compile(rf"^{name}: failed in .+ — .+"))
    expect(progress.locator('li[data-step="synthesis"]')).to_contain_text(re.compile(r"^synthesis: done in .+ — warning"))
    shown = steps.all_inner_texts()
    page.reload()  # without htmx the page itself shows the same lines
    expect(page.locator("#ask-progress ol.steps li")).to_have_text(shown)

    no_js = browser.new_context(java_script_enabled=False).new_page()
    sign_in(no_js, base, "alice")
    no_js.goto(base + "/console/ask")
    no_js.get_by_role("button", name="Ask").click()
    no_js.wait_for_url("**/console/ask/*")
    for _ in range(60):  # reloaded by hand, as a reader without JavaScript would
        if no_js.locator("#ask-progress").get_attribute("hx-trigger") is None:
            break
        no_js.wait_for_timeout(500)
        no_js.reload()
    expect(no_js.locator("#ask-progress ol.steps li")).to_have_count(5)
    expect(no_js.locator('#ask-progress li[data-step="traffic"]')).to_contain_text("traffic: failed")


def test_a_responder_approves_a_proposal_and_sees_the_dry_run(stack, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base, _ = stack
    report = make_report().model_dump(mode="json") | {"proposals": [
        {"type": "drain_server", "backend": "checkout", "server": "co3", "evidence": ["co3 refuses 80% of requests"]}]}
    created = httpx.post(base + "/incidents", json={"title": "checkout co3 refusing", "report": report}, timeout=10)
    assert created.status_code == 201, created.text
    incident_page = f"{base}/console/incidents/{created.json()['id']}"
    page = browser.new_page()
    sign_in(page, base, "alice")
    page.goto(incident_page)
    proposal = page.locator("#proposal-p1")
    expect(proposal).to_contain_text("checkout/co3")
    proposal.get_by_role("button", name="Approve p1").click()
    expect(proposal).to_contain_text("approved by console:alice")
    expect(proposal).to_contain_text("set server checkout/co3 state drain")
    expect(proposal.get_by_role("button")).to_have_count(0)
    expect(page.locator("#timeline")).to_contain_text("p1 approved by console:alice")

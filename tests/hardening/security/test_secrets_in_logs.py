"""No secret in logs: the three services run as real processes at DEBUG with every secret set
(tokens, SMTP password, ANTHROPIC_API_KEY), are exercised on their good and error paths (wrong
tokens, bad bodies, an LLM API that refuses the key, an SMTP server that is not there), and their
whole log output is searched for each secret value."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.fakes.anthropic_api import FakeAnthropic
from tests.hardening.procs import alert_payload, processes, wait_json

pytestmark = pytest.mark.real

SECRETS = {
    "INGEST_TOKEN": "ingest-SECRET-7f3a91",
    "API_TOKEN": "api-SECRET-0c55e2",
    "ALERTS_TOKEN": "alerts-SECRET-9d10b4",
    "NOTIFIER_TOKEN": "notifier-SECRET-41aa07",
    "SMTP_PASSWORD": "smtp-SECRET-pa55w0rd",
    "ANTHROPIC_API_KEY": "sk-ant-SECRET-e8c1f00d",
}
LINE = ('10.0.0.1:4000 [22/Nov/2026:14:03:17.032] fe be_app/app1 0/0/1/7/{ta} 503 185 - - ---- '
        '1/1/0/0/0 0/0 "GET /a HTTP/1.1"')


def _auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {SECRETS[name]}"}


def test_no_secret_in_any_log_line(redis_url: str) -> None:
    fake = FakeAnthropic(api_key="the-other-key")  # refuses our key: the SDK's 401 error path
    with fake.serve() as llm_url, processes() as start:
        common = {"REDIS_URL": redis_url, "LOG_LEVEL": "DEBUG", "LOG_JSON": "true"}
        ingestion = start("ingestion-service", {**common, "INGEST_TOKEN": SECRETS["INGEST_TOKEN"]})
        notifier = start("notifier-service", {
            **common, "REDIS_PREFIX": "secrets-test:", "NOTIFIER_TOKEN": SECRETS["NOTIFIER_TOKEN"],
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "9", "SMTP_USERNAME": "oncall",
            "SMTP_PASSWORD": SECRETS["SMTP_PASSWORD"], "SMTP_TIMEOUT_SECONDS": "1",
            "BACKOFF_BASE_SECONDS": "0.2", "MAX_ATTEMPTS": "2", "POLL_INTERVAL_SECONDS": "0.1",
            "COALESCE_INTERVAL_SECONDS": "0"})
        agent = start("agent-service", {
            **common, "INGESTION_URL": ingestion.url, "INGESTION_READ_TOKEN": SECRETS["INGEST_TOKEN"],
            "NOTIFIER_URL": notifier.url,
            "NOTIFIER_TOKEN": SECRETS["NOTIFIER_TOKEN"], "API_TOKEN": SECRETS["API_TOKEN"],
            "ALERTS_TOKEN": SECRETS["ALERTS_TOKEN"], "LLM_ENGINE": "anthropic",
            "ANTHROPIC_API_KEY": SECRETS["ANTHROPIC_API_KEY"], "ANTHROPIC_BASE_URL": llm_url,
            "LLM_MAX_RETRIES": "0", "ALERT_CLAIM_IDLE_S": "0.5"})

        body = "\n".join(LINE.format(ta=i) for i in range(50))
        text = {"Content-Type": "text/plain"}
        assert httpx.post(ingestion.url + "/logs", content=body, headers={**text, **_auth("INGEST_TOKEN")}).status_code == 202
        for wrong in ("Bearer " + SECRETS["API_TOKEN"], "Bearer nope", ""):
            httpx.post(ingestion.url + "/logs", content=body, headers={**text, "Authorization": wrong})
        httpx.post(ingestion.url + "/logs", content=b"\xff\xfe", headers={**text, **_auth("INGEST_TOKEN")})

        report = httpx.post(agent.url + "/analyze", json={"window": "15m"}, headers=_auth("API_TOKEN"), timeout=60)
        assert report.status_code == 200, report.text
        assert all(f["status"] == "failed" for f in report.json()["findings"])  # the LLM refused the key
        httpx.post(agent.url + "/analyze", json={"window": "nonsense"}, headers=_auth("API_TOKEN"))
        httpx.post(agent.url + "/analyze", json={}, headers=_auth("ALERTS_TOKEN"))  # right secret, wrong door
        accepted = httpx.post(agent.url + "/alerts", json=alert_payload("BackendDown"), headers=_auth("ALERTS_TOKEN"), timeout=30)
        assert accepted.status_code == 202, accepted.text

        notify = {"idempotency_key": "k-1", "incident_id": 1, "event": "opened", "severity": "critical",
                  "title": "t", "summary": "s", "report_markdown": "", "url": "", "to": []}
        sent = httpx.post(notifier.url + "/notify", json=notify, headers=_auth("NOTIFIER_TOKEN"))
        assert sent.status_code == 202, sent.text
        httpx.post(notifier.url + "/notify", json=notify, headers={"Authorization": "Bearer " + SECRETS["SMTP_PASSWORD"]})
        wait_json(f"{notifier.url}/notifications/{sent.json()['id']}",
                  lambda n: n["status"] == "failed" or n["attempts"] >= 1,  # type: ignore[index]
                  headers=_auth("NOTIFIER_TOKEN"))
        wait_json(agent.url + "/incidents/1", lambda i: not i["pending"], headers=_auth("API_TOKEN"), timeout=60)  # type: ignore[index]
        time.sleep(0.5)
        logs = {p.command: p.logs() for p in (ingestion, agent, notifier)}

    assert fake.requests, "the agent never called the LLM API: the key was not exercised"
    assert all(len(text) > 200 for text in logs.values()), {k: len(v) for k, v in logs.items()}
    assert "DEBUG" in logs["agent-service"] or '"level": "DEBUG"' in logs["agent-service"]
    leaks = {(service, name) for service, text in logs.items() for name, value in SECRETS.items() if value in text}
    assert leaks == set(), leaks
    # partial leaks too (a prefix long enough to help a guess)
    partial = {(service, name) for service, text in logs.items() for name, value in SECRETS.items()
               if value[-10:] in text}
    assert partial == set(), partial

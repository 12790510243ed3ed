"""Text from outside becomes text in the on-call email (finding 4): the agent's real renderers →
the real notifier (uvicorn, redis-server) → a real SMTP inbox (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from agent_service.incidents.models import AlertRecord, Incident, TimelineEvent
from agent_service.incidents.render import incident_markdown
from agent_service.models import Finding, Scope
from agent_service.report.markdown import render as report_markdown
from notifier_service.app import create_app
from tests.agent.incidents.support import make_report
from tests.notifier.conftest import AUTH, SmtpSink, fast_settings, notify_body, smtp_sink, wait_until  # noqa: F401
from tests.support.servers import serve_app

pytestmark = pytest.mark.real

SOURCES = ("server", "label", "annotation", "note", "rootcause", "question")


def evil(source: str) -> str:
    return f"[{source}](https://evil-{source}.example/x)"


def hostile_incident() -> tuple[Incident, str]:
    now = datetime.now(UTC)
    report = make_report()
    report = report.model_copy(update={
        "scope": Scope(backend="be_app"),
        "question": f"why? {evil('question')}",
        "findings": [Finding(specialist="errors", severity="critical", summary=f"server {evil('server')} answers 503")],
    })
    incident = Incident(
        id=12, title="5xx on be_app", created_at=now, updated_at=now, source="alertmanager",
        alerts=[AlertRecord(fingerprint="f00d", status="firing", starts_at=now,
                            labels={"alertname": evil("label")}, annotations={"summary": evil("annotation")},
                            generator_url="http://prometheus.example:9090/graph?g0.expr=up")],
        timeline=[TimelineEvent(seq=1, at=now, actor="erin", kind="note", message=f"note {evil('note')}")],
        reports=[report],
        root_cause=f"# H1 {evil('rootcause')}",
    )
    return incident, report_markdown(report)


def test_six_hostile_links_end_up_as_text_in_the_email(redis_url: str, smtp_sink: SmtpSink) -> None:  # noqa: F811
    incident, report_md = hostile_incident()
    links = ["http://prometheus.example:9090/graph?g0.expr=up", "http://alertmanager.example:9093"]
    url = "https://copilot.example/incidents/12"
    with serve_app(create_app(fast_settings(redis_url, smtp_sink.port))) as base, \
            httpx.Client(base_url=base, headers=AUTH, timeout=10) as client:
        for event, markdown in (("opened", incident_markdown(incident)), ("report", report_md)):
            body = notify_body(idempotency_key=f"k-{event}", event=event, url=url, links=links,
                               report_markdown=markdown + "\n[graph](http://prometheus.example:9090/graph?g0.expr=up)\n")
            assert client.post("/notify", json=body).status_code == 202
        wait_until(lambda: len(smtp_sink.messages()) == 2)
    html = "\n".join(m.part("html") for m in smtp_sink.messages())
    text = "\n".join(m.part("plain") for m in smtp_sink.messages())
    for source in SOURCES:
        assert f"evil-{source}.example" in html, source  # shown ...
        assert f'href="https://evil-{source}' not in html, source  # ... but not as a link
        assert f"evil-{source}.example" in text, source
    assert "<h1>H1" not in html and "# H1" in html
    assert 'href="http://prometheus.example:9090/graph?g0.expr=up"' in html  # a link the agent passed along
    assert f'href="{url}"' in html

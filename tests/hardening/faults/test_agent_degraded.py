"""/analyze when its dependencies fail, on the real agent app served on loopback:
ingestion down (a real process killed), and the fake Anthropic API overloaded (529), failing (500)
or hanging. The report always comes back, says what is degraded, and never waits past the deadline."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.fakes.anthropic_api import FakeAnthropic, Reply, api_error, hang
from tests.hardening.apps import agent_app
from tests.hardening.procs import processes
from tests.support.servers import serve_app

pytestmark = pytest.mark.real

KEY = "fault-test-key"
LINE = ('10.0.0.1:4000 [22/Nov/2026:14:03:17.032] fe be/app1 0/0/1/7/{ta} 503 185 - - ---- '
        '1/1/0/0/0 0/0 "GET /a HTTP/1.1"')


def test_ingestion_killed_before_analyze_gives_an_unreachable_report_fast(redis_url: str) -> None:
    with processes() as start:
        ingestion = start("ingestion-service", {"REDIS_URL": redis_url})
        agent = start("agent-service", {"REDIS_URL": redis_url, "LLM_ENGINE": "rules",
                                        "INGESTION_URL": ingestion.url, "INGESTION_TIMEOUT_S": "2"})
        body = "\n".join(LINE.format(ta=i) for i in range(100))
        assert httpx.post(ingestion.url + "/logs", content=body, headers={"Content-Type": "text/plain"}).status_code == 202
        healthy = httpx.post(agent.url + "/analyze", json={"window": "1h", "end": "2026-11-22T14:10:00Z"}, timeout=60)
        assert healthy.status_code == 200 and healthy.json()["sources"]["ingestion"] == "ok"

        ingestion.stop(kill=True)
        started = time.monotonic()
        r = httpx.post(agent.url + "/analyze", json={"window": "1h", "end": "2026-11-22T14:10:00Z"}, timeout=60)
        took = time.monotonic() - started
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["sources"]["ingestion"] == "unreachable"
        assert report["overall_severity"] != "ok"  # nothing could be read: never "all good"
        assert len(report["findings"]) == 4
        # a refused connection is known at once: far below the 2 s ingestion timeout, let alone the deadline
        assert took < 30, took
        markdown = httpx.post(agent.url + "/analyze?format=markdown", json={}, timeout=60)
        assert markdown.status_code == 200 and "unreachable" in markdown.text.lower()


def _serve_agent(redis_url: str, llm_url: str, **overrides: object):  # type: ignore[no-untyped-def]
    return serve_app(agent_app(redis_url, "http://127.0.0.1:9", llm_engine="anthropic", anthropic_api_key=KEY,
                               anthropic_base_url=llm_url, llm_max_retries=1, llm_timeout_s=30,
                               alert_worker_enabled=False, **overrides))


@pytest.mark.parametrize("failure", ["overloaded_529", "error_500"])
def test_llm_failing_gives_a_degraded_report_with_the_reason(redis_url: str, failure: str) -> None:
    status = 529 if failure == "overloaded_529" else 500
    fake = FakeAnthropic(api_key=KEY).respond_with(lambda body: api_error(status))
    with fake.serve() as llm_url, _serve_agent(redis_url, llm_url) as url:
        r = httpx.post(url + "/analyze", json={"window": "15m"}, timeout=60)
    assert r.status_code == 200, r.text
    report = r.json()
    assert [f["status"] for f in report["findings"]] == ["failed"] * 4
    assert all(f["severity"] == "unknown" and f["error"] for f in report["findings"])
    assert report["overall_severity"] != "ok"
    assert report["synthesis"] == "deterministic" and report["synthesis_error"]
    assert report["engine"]["kind"] == "anthropic"
    # the SDK retried (1 retry) and then gave up: 4 specialists + synthesis, 2 attempts each
    assert len(fake.requests) == 10, len(fake.requests)


def test_llm_hanging_is_cut_at_the_deadlines(redis_url: str) -> None:
    fake = FakeAnthropic(api_key=KEY).respond_with(lambda body: hang())
    deadline = 2.0
    with fake.serve() as llm_url, _serve_agent(redis_url, llm_url, specialist_deadline_s=deadline,
                                                synthesis_deadline_s=deadline) as url:
        started = time.monotonic()
        r = httpx.post(url + "/analyze", json={"window": "15m"}, timeout=60)
        took = time.monotonic() - started
    assert r.status_code == 200, r.text
    report = r.json()
    assert [f["status"] for f in report["findings"]] == ["timed_out"] * 4
    assert report["synthesis"] == "deterministic" and "2 s" in report["synthesis_error"]
    # specialists run concurrently: one deadline for all four, then one for the synthesis
    assert took < 2 * deadline + 5, took
    assert report["duration_ms"] < (2 * deadline + 5) * 1000


def test_llm_slow_then_overloaded_mix_still_answers(redis_url: str) -> None:
    """Some calls hang, some are overloaded, some answer slowly: each specialist ends in its own way."""
    replies = iter([Reply(delay_ms=50, status=529, body={"type": "error", "error": {"type": "overloaded_error",
                                                                                      "message": "busy"}},
                          headers={"retry-after-ms": "10"}), hang()] * 20)
    fake = FakeAnthropic(api_key=KEY).respond_with(lambda body: next(replies))
    with fake.serve() as llm_url, _serve_agent(redis_url, llm_url, specialist_deadline_s=2.0,
                                                synthesis_deadline_s=2.0) as url:
        r = httpx.post(url + "/analyze", json={}, timeout=60)
    assert r.status_code == 200, r.text
    statuses = {f["status"] for f in r.json()["findings"]}
    assert statuses <= {"failed", "timed_out"} and statuses

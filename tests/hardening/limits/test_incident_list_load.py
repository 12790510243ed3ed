"""Issue 14 finding 6 on a real agent-service process over a real redis-server: ten stored
incidents whose alert labels hit the 4 KiB intake cap, then 30 concurrent `GET /incidents` (with and
without filters) while `POST /alerts` keep arriving. Every POST is accepted (no 503, no 5xx), every
list answer is right, and the agent's memory stays bounded: a list reads its page's summaries from
the indexes, never the incidents themselves."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.agent.incidents.support import FakeNotifier
from tests.hardening.list_load import (
    TOKEN,
    list_reads,
    pct,
    reads_during_alerts,
    rss_kib,
    rss_peak,
    store_big_incidents,
)
from tests.hardening.procs import processes
from tests.support.servers import serve_app

pytestmark = [pytest.mark.real, pytest.mark.slow]

BIG = 10
ROUNDS = 3  # rounds of 30 concurrent reads, the alerts posted all along


def _check_answer(params: dict[str, Any], body: dict[str, Any], big: dict[int, dict[str, Any]]) -> None:
    items = body["incidents"]
    assert body["count"] == len(items) <= params["limit"]
    created = [i["created_at"] for i in items]
    assert created == sorted(created, reverse=True), "newest first"
    for wanted in ("status", "severity"):
        if wanted in params:
            assert {i[wanted] for i in items} <= {params[wanted]}, (params, items)
    newest_big = sorted(big, key=lambda i: big[i]["created_at"], reverse=True)
    ids = [i["id"] for i in items]
    if params.get("severity") == "critical":  # only the big incidents are critical
        assert ids == newest_big[: params["limit"]], (params, ids)
        assert (body["next_cursor"] is not None) == (params["limit"] < BIG)
    else:  # fewer than `limit` incidents in all: every big one is on the page
        assert set(newest_big) <= set(ids), (params, ids)
    for item in items:
        if item["id"] in big:
            stored = big[item["id"]]
            assert (item["title"], item["severity"], item["status"], item["alerts"]) == (
                stored["title"], stored["severity"], stored["status"], len(stored["alerts"]))


def test_thirty_concurrent_lists_during_alerts_keep_memory_bounded_and_alerts_accepted(redis_url: str) -> None:
    notifier = FakeNotifier()
    with serve_app(notifier.app) as notifier_url, processes() as start:
        agent = start("agent-service", {
            "REDIS_URL": redis_url, "NOTIFIER_URL": notifier_url, "INGESTION_URL": "http://127.0.0.1:9",
            "LLM_ENGINE": "rules", "API_TOKEN": TOKEN, "ALERTS_TOKEN": TOKEN, "LOG_LEVEL": "WARNING"})
        assert agent.proc is not None
        big = store_big_incidents(agent.url, redis_url, BIG)
        assert all(len(doc["alerts"][0]["labels"]["l0"]) == 4096 for doc in big.values()), "cut at the cap"
        statuses = {doc["status"] for doc in big.values()}
        assert len(statuses) == 1, statuses
        idle = rss_kib(agent.proc.pid)
        with rss_peak(agent.proc.pid) as peak:
            result = asyncio.run(reads_during_alerts(agent.url, list_reads(statuses.pop()), rounds=ROUNDS))
    print(f"agent RSS: idle {idle / 1024:.1f} MB, peak {peak[0] / 1024:.1f} MB during {ROUNDS} x 30 concurrent lists; "
          f"list p50 {pct(result.list_ms, 50):.0f} ms, p95 {pct(result.list_ms, 95):.0f} ms; "
          f"{len(result.alert_statuses)} POST /alerts during the reads")
    assert result.alert_statuses, "no alert was posted during the reads: nothing was tested"
    assert all(s == 202 for s in result.alert_statuses), result.alert_statuses
    assert len(result.lists) == 30 * ROUNDS
    for answer in result.lists:
        assert answer.status == 200, (answer.params, answer.status, str(answer.body)[:300])
        assert isinstance(answer.body, dict)
        _check_answer(answer.params, answer.body, big)
    assert peak[0] < 2 * idle + 100 * 1024, f"RSS {peak[0]} KiB against idle {idle} KiB"

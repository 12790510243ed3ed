"""The knowledge index on real files: front matter, sections, BM25 order, matching by alert,
backend and runbook_url, re-indexing on change, resolved incidents next to the runbooks."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from agent_service.runbooks.index import KnowledgeIndex, fts_query, url_file
from agent_service.runbooks.models import IncidentDoc, Match
from agent_service.runbooks.parse import parse_runbook

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "monitoring" / "runbooks"

LATENCY = """---
title: HighP99Latency
alerts: [HighP99Latency]
tags: [latency]
---
# HighP99Latency

## What it means
Requests to the backend are slow: the p99 latency is above one second.

## First checks
Look at the slow server; compare latency of every server in the pool.

## Actions
Drain the slow server.
"""

REDIS = """---
title: RedisMemoryHigh
alerts: [RedisMemoryHigh]
---
## What it means
Redis memory is nearly full; evictions drop buckets.
"""

PAYMENTS = """---
title: Payments latency
alerts: [HighP99Latency]
backends: [be_pay]
---
## First checks
Latency on payments: check the card processor's latency first.
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_front_matter_and_sections() -> None:
    book = parse_runbook(LATENCY, file="runbooks/x.md")
    assert (book.title, book.alerts, book.backends, book.tags) == ("HighP99Latency", ("HighP99Latency",), (), ("latency",))
    assert [s.heading for s in book.sections] == ["What it means", "First checks", "Actions"]
    assert book.sections[2].text == "Drain the slow server."
    plain = parse_runbook("no front matter\n\n## Step\nText", file="a.md")
    assert plain.title == "Step" and plain.alerts == () and [s.heading for s in plain.sections] == ["Step", "Step"]
    broken = parse_runbook("---\nalerts: [unclosed\n---\n## A\nx", file="b.md")
    assert broken.alerts == () and [s.heading for s in broken.sections] == ["A"]


def test_bm25_orders_sections_by_text_on_real_files(tmp_path: Path) -> None:
    write(tmp_path, "latency.md", LATENCY)
    write(tmp_path, "redis.md", REDIS)
    index = KnowledgeIndex(tmp_path)
    hits = index.search(Match(query="compare every server pool"))
    assert [h.file for h in hits][:1] == [f"{tmp_path.name}/latency.md"]
    assert [h.heading for h in hits] == ["First checks", "Actions"]  # four words, then one
    assert all(h.file != f"{tmp_path.name}/redis.md" for h in hits)
    assert hits == sorted(hits, key=lambda h: -h.score) and all(h.matched_by == ["text"] for h in hits)
    redis = index.search(Match(query="redis evictions"))
    assert [h.title for h in redis] == ["RedisMemoryHigh"]
    assert index.search(Match(query="kafka")) == []


def test_matching_by_alert_backend_and_runbook_url(tmp_path: Path) -> None:
    write(tmp_path, "latency.md", LATENCY)
    write(tmp_path, "redis.md", REDIS)
    write(tmp_path, "payments.md", PAYMENTS)
    index = KnowledgeIndex(tmp_path)
    by_alert = index.search(Match(alerts=["HighP99Latency"], backend="be_api"))
    assert {h.title for h in by_alert} == {"HighP99Latency"}  # payments is written for be_pay only
    assert all("alert" in h.matched_by for h in by_alert)
    pay = index.search(Match(alerts=["HighP99Latency"], backend="be_pay", limit=1))
    assert pay[0].title == "Payments latency"  # its own backend counts
    by_url = index.search(Match(runbook_urls=["https://wiki/x/redis.md#what-it-means"], query="latency"))
    assert by_url[0].title == "RedisMemoryHigh" and by_url[0].matched_by == ["runbook_url"]
    assert url_file("monitoring/runbooks/High-5xx.md?x=1") == "high-5xx.md"


def test_a_changed_file_is_re_indexed(tmp_path: Path) -> None:
    path = write(tmp_path, "latency.md", LATENCY)
    index = KnowledgeIndex(tmp_path)
    assert index.search(Match(query="haproxy maxconn")) == []
    path.write_text(LATENCY + "\n## Capacity\nRaise maxconn on haproxy servers.\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    hits = index.search(Match(query="haproxy maxconn"))
    assert [h.heading for h in hits] == ["Capacity"]
    assert index.refresh() is False  # unchanged since: not read again
    write(tmp_path, "redis.md", REDIS)
    assert index.refresh() is True and index.search(Match(alerts=["RedisMemoryHigh"]))
    path.unlink()
    assert index.search(Match(query="haproxy maxconn")) == []


def test_shipped_runbooks_rank_their_own_alert_first() -> None:
    index = KnowledgeIndex(SHIPPED)
    first = index.search(Match(alerts=["HighP99Latency"], query="latency slow"))
    assert first[0].title == "HighP99Latency" and first[0].file == "runbooks/high-p99-latency.md"
    queue = index.search(Match(query="requests wait in haproxy queue maxconn", limit=3))
    assert {h.title for h in queue} & {"HAProxyRequestsQueued", "HAProxyQueueDepthHigh"}
    assert all(len(h.excerpt) <= 600 for h in index.search(Match(query="server", limit=20)))


def test_resolved_incidents_are_indexed_with_their_fix(tmp_path: Path) -> None:
    write(tmp_path, "latency.md", LATENCY)
    index = KnowledgeIndex(tmp_path)
    done = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
    docs = [IncidentDoc(incident_id=12, title="Latency on be_app", root_cause="app3 swapping",
                        resolution="drained app3", resolved_at=done, alerts=["HighP99Latency"], backends=["be_app"]),
            IncidentDoc(incident_id=13, title="Redis full", root_cause="retention", resolution="lower RETENTION_HOURS",
                        backends=["be_other"])]
    assert index.sync_incidents(docs) is True and index.sync_incidents(docs) is False
    hits = index.search(Match(alerts=["HighP99Latency"], backend="be_app", kinds=["incident"]))
    assert [(h.incident_id, h.resolution, h.resolved_at) for h in hits] == [(12, "drained app3", done)]
    assert "Resolution: drained app3" in hits[0].excerpt and hits[0].file == "incident #12"
    both = index.search(Match(query="swapping slow server", backend="be_app"))
    assert {h.kind for h in both} == {"runbook", "incident"}
    index.sync_incidents(docs[1:])
    assert index.search(Match(query="swapping")) == []


def test_query_words_cannot_inject_fts_syntax() -> None:
    assert fts_query('a" OR b* NEAR(c) -d') == '"a" OR "or" OR "b" OR "near" OR "c" OR "d"'


def test_an_oversized_file_is_skipped_and_an_absent_folder_is_empty(tmp_path: Path) -> None:
    write(tmp_path, "huge.md", "## Big\n" + "haproxy " * 40_000)
    write(tmp_path, "redis.md", REDIS)
    assert [h.title for h in KnowledgeIndex(tmp_path).search(Match(query="haproxy redis"))] == ["RedisMemoryHigh"]
    assert KnowledgeIndex(tmp_path / "missing").search(Match(query="redis")) == []

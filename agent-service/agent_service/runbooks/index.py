"""The knowledge index: runbook sections (kind "runbook") and the post-mortems of RESOLVED
incidents (kind "incident") in one SQLite FTS5 table in memory, ranked with `bm25()`.

Runbooks are read from RUNBOOKS_DIR at start-up and again whenever a file's mtime or size
changes (checked on each search: a few stat calls). Blocking work (SQLite, files) runs in a
thread; one lock serialises the connection."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent_service.runbooks.models import Hit, IncidentDoc, Match
from agent_service.runbooks.parse import Runbook, parse_runbook

log = logging.getLogger(__name__)

MAX_FILES = 500
MAX_FILE_BYTES = 256 * 1024
EXCERPT_CHARS = 600
# bm25() weights per column: kind, file, ref (unindexed) 0; title 3, heading 2, body 1, alerts 4,
# backends 2, tags 2.
_RANKED = "SELECT rowid, bm25(docs, 0, 0, 0, 3.0, 2.0, 1.0, 4.0, 2.0, 2.0) FROM docs WHERE docs MATCH ?"
_WORD = re.compile(r"[A-Za-z0-9]+")
ALERT_BONUS = 10.0  # the runbook names the alert (front matter `alerts`)
URL_BONUS = 20.0  # the alert's runbook_url annotation points at this file
BACKEND_BONUS = 1.0

_SCHEMA = """
CREATE VIRTUAL TABLE docs USING fts5(
    kind UNINDEXED, file UNINDEXED, ref UNINDEXED,
    title, heading, body, alerts, backends, tags,
    tokenize = 'porter unicode61'
)"""


def fts_query(text: str) -> str:
    """Free text as an FTS5 query: every word quoted (no operator can be injected), OR-ed."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:32]
    return " OR ".join(f'"{w}"' for w in words)


def url_file(url: str) -> str:
    """The file name a runbook_url points at (`…/runbooks/high-latency.md#first-checks` → high-latency.md)."""
    return url.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True)
class _Row:
    kind: str
    file: str
    ref: str
    title: str
    heading: str
    body: str
    alerts: str
    backends: str
    tags: str


def _runbook_rows(book: Runbook) -> list[_Row]:
    return [
        _Row("runbook", book.file, "", book.title, s.heading, s.text, " ".join(book.alerts),
             " ".join(book.backends), " ".join(book.tags))
        for s in book.sections
    ]


def _incident_row(doc: IncidentDoc) -> _Row:
    body = "\n".join(p for p in (doc.root_cause and f"Root cause: {doc.root_cause}",
                                 doc.resolution and f"Resolution: {doc.resolution}") if p)
    return _Row("incident", f"incident #{doc.incident_id}", str(doc.incident_id), doc.title,
                "Root cause and resolution", body, " ".join(doc.alerts), " ".join(doc.backends), "")


class KnowledgeIndex:
    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory else None
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[int, int]] | None = None
        self._incidents: tuple[tuple[int, str], ...] = ()
        self._docs: dict[int, IncidentDoc] = {}

    # -- runbooks -------------------------------------------------------------------------
    def _stat(self) -> dict[str, tuple[int, int]]:
        if self.directory is None or not self.directory.is_dir():
            return {}
        found: dict[str, tuple[int, int]] = {}
        for path in sorted(self.directory.rglob("*.md"))[:MAX_FILES]:
            if path.is_file():
                st = path.stat()
                found[path.relative_to(self.directory).as_posix()] = (st.st_mtime_ns, st.st_size)
        return found

    def refresh(self) -> bool:
        """Re-read the runbooks when a file was added, removed or changed; True when it did."""
        with self._lock:
            seen = self._stat()
            if seen == self._seen:
                return False
            rows: list[_Row] = []
            for rel, (_, size) in seen.items():
                book = self._read(rel, size)
                if book is not None:
                    rows += _runbook_rows(book)
            with self._db:
                self._db.execute("DELETE FROM docs WHERE kind = 'runbook'")
                self._insert(rows)
            self._seen = seen
            log.info("runbooks indexed: %d files, %d sections", len(seen), len(rows))
            return True

    def _read(self, rel: str, size: int) -> Runbook | None:
        """One file of the folder (the caller found it there), cited as `<folder name>/<rel>`."""
        if self.directory is None:
            return None
        if size > MAX_FILE_BYTES:
            log.warning("runbook %s is over %d bytes: not indexed", rel, MAX_FILE_BYTES)
            return None
        try:
            text = (self.directory / rel).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            log.warning("runbook %s unreadable: %s", rel, exc)
            return None
        return parse_runbook(text, file=f"{self.directory.name}/{rel}")

    def _insert(self, rows: Sequence[_Row]) -> None:
        self._db.executemany(
            "INSERT INTO docs (kind, file, ref, title, heading, body, alerts, backends, tags)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.kind, r.file, r.ref, r.title, r.heading, r.body, r.alerts, r.backends, r.tags) for r in rows],
        )

    # -- resolved incidents ---------------------------------------------------------------
    def sync_incidents(self, docs: Sequence[IncidentDoc]) -> bool:
        """Make the incident rows exactly `docs` (replaced only when they changed)."""
        key = tuple(sorted((d.incident_id, d.model_dump_json()) for d in docs))
        with self._lock:
            if key == self._incidents:
                return False
            with self._db:
                self._db.execute("DELETE FROM docs WHERE kind = 'incident'")
                self._insert([_incident_row(d) for d in docs])
            self._incidents = key
            self._docs = {d.incident_id: d for d in docs}
            return True

    # -- search ---------------------------------------------------------------------------
    def search(self, match: Match) -> list[Hit]:
        self.refresh()
        query = fts_query(" ".join([match.query, *match.alerts]))
        with self._lock:
            text_scores: dict[int, float] = {}
            if query:
                for rowid, rank in self._db.execute(_RANKED, (query,)):
                    text_scores[rowid] = -rank  # bm25() is lower-is-better; negate: higher is better
            rows = {r[0]: r for r in self._db.execute(
                "SELECT rowid, kind, file, ref, title, heading, body, alerts, backends FROM docs")}
        wanted_alerts = {a.lower() for a in match.alerts}
        wanted_files = {url_file(u) for u in match.runbook_urls if u}
        hits: list[tuple[float, Hit]] = []
        for rowid, (_, kind, file, ref, title, heading, body, alerts, backends) in rows.items():
            if match.kinds and kind not in match.kinds:
                continue
            theirs = {b.lower() for b in backends.split()}
            if match.backend and theirs and match.backend.lower() not in theirs:
                continue  # written for other backends only
            by_alert = bool(wanted_alerts & {a.lower() for a in alerts.split()})
            by_url = kind == "runbook" and file.rsplit("/", 1)[-1].lower() in wanted_files
            text = text_scores.get(rowid)
            if text is None and not (by_alert or by_url):
                continue
            score = (text or 0.0) + ALERT_BONUS * by_alert + URL_BONUS * by_url
            score += BACKEND_BONUS * bool(match.backend and match.backend.lower() in theirs)
            doc = self._docs.get(int(ref)) if kind == "incident" and ref else None
            hits.append((score, Hit(
                kind=kind, title=title, file=file, heading=heading, excerpt=_excerpt(body),
                score=round(score, 6), matched_by=[n for n, on in (("runbook_url", by_url), ("alert", by_alert),
                                                                   ("text", text is not None)) if on],
                incident_id=doc.incident_id if doc else None, resolution=doc.resolution if doc else None,
                resolved_at=doc.resolved_at if doc else None,
            )))
        hits.sort(key=lambda sh: (-sh[0], sh[1].file, sh[1].heading))  # the exact score: a tiny corpus' are small
        return [h for _, h in hits[: match.limit]]

    async def asearch(self, match: Match) -> list[Hit]:
        return await asyncio.to_thread(self.search, match)

    async def arefresh(self) -> bool:
        return await asyncio.to_thread(self.refresh)

    async def resync_incidents(self, docs: Sequence[IncidentDoc]) -> bool:
        return await asyncio.to_thread(self.sync_incidents, docs)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _excerpt(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1].rstrip() + "…"

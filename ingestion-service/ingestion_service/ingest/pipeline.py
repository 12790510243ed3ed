"""Parse results → aggregate → name cap → one atomic Redis write → metrics. Shared by HTTP and UDP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis.exceptions
from redis.asyncio.cluster import RedisCluster

from ingestion_service.haproxy.fast import FALLBACK, scan
from ingestion_service.haproxy.models import DEFAULT_OPTIONS, LogEntry, ParseOptions, ParseResult, Skip
from ingestion_service.haproxy.parser import parse_line
from ingestion_service.metrics import IngestMetrics
from ingestion_service.signals.aggregate import BACKEND, FRONTEND, PAIR, SERVER, Aggregator
from ingestion_service.signals.bulk import add_rows
from ingestion_service.store.client import Store
from ingestion_service.store.cluster_writer import write_batch_cluster
from ingestion_service.store.durability import Durability
from ingestion_service.store.names import NameRegistry
from ingestion_service.store.writer import write_batch

MAX_ERRORS = 100


@dataclass
class Prepared:
    """A parsed and aggregated batch, not yet written."""

    aggregator: Aggregator
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def answer(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "rejected": self.rejected, "skipped": self.skipped,
                "errors": self.errors}


def prepare(results: Iterable[tuple[int, ParseResult]], agg: Aggregator | None = None) -> Prepared:
    """Pure: count and aggregate (CPU only, run in a worker thread for big batches)."""
    agg = agg or Aggregator()
    out = Prepared(agg)
    add = agg.add
    errors = out.errors
    for number, r in results:
        if type(r) is LogEntry:
            add(r)
        elif type(r) is Skip:
            out.skipped += 1
        else:
            out.rejected += 1
            if len(errors) < MAX_ERRORS:
                errors.append({"line": number, "reason": r.reason})
    out.accepted = agg.lines
    return out


def prepare_text(text: str, options: ParseOptions = DEFAULT_OPTIONS) -> Prepared:
    """Text bodies: the bulk scanner for request lines, `parse_line` for everything else."""
    agg = Aggregator()
    if options.log_format:  # a custom layout: every line through its compiled regex
        lines_ = text.split("\n")
        return prepare(((i, parse_line(x, options)) for i, x in enumerate(lines_, 1) if x and not x.isspace()), agg)
    rows = scan(text.rstrip("\n"))  # a final newline ends the last line, it adds none
    slow = add_rows(agg, rows, options.timezone)
    out = Prepared(agg)
    if slow:
        lines: list[str] | None = None
        results = []
        for i in slow:
            line = rows[i][FALLBACK]
            if not rows[i][FALLBACK]:
                lines = lines if lines is not None else text.split("\n")
                line = lines[i]
            if line and not line.isspace():
                results.append((i + 1, parse_line(line, options)))
        extra = prepare(results, agg)
        out.skipped, out.rejected, out.errors = extra.skipped, extra.rejected, extra.errors
    out.accepted = agg.lines
    return out


class Ingestor:
    def __init__(self, redis: Store, metrics: IngestMetrics, *, ttl_seconds: int,
                 name_cap: int, server_cap: int, late_line_seconds: int = 300,
                 parse_options: ParseOptions = DEFAULT_OPTIONS, clock: Callable[[], float] = time.time,
                 durability: Durability = Durability()) -> None:
        self.redis = redis
        self.durability = durability  # REDIS_WAIT_REPLICAS (store/durability.py)
        self.late_line_seconds = late_line_seconds
        self.parse_options = parse_options
        self.metrics = metrics
        self.ttl = ttl_seconds
        self.names = NameRegistry(cap=name_cap, server_cap=server_cap, ttl=ttl_seconds, clock=clock,
                                  on_folded=lambda kind, n: metrics.names_folded.labels(kind).inc(n))

    async def commit(self, batch: Prepared, *, source: str, idempotency_key: str | None = None) -> dict[str, Any]:
        """Write the batch; returns the answer (the first one when the idempotency key was seen)."""
        answer = batch.answer()
        if batch.accepted:
            try:
                previous = await self._write(batch, answer, idempotency_key)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                    redis.exceptions.OutOfMemoryError, redis.exceptions.ReadOnlyError):
                self.metrics.batches.labels("redis_error").inc()
                raise
            except redis.exceptions.ResponseError:  # a command refused: a bug, not worth a retry
                self.metrics.batches.labels("redis_refused").inc()
                raise
            if previous is not None:
                self.metrics.batches.labels("duplicate").inc()
                return previous
            self.metrics.batches.labels("ok").inc()
        lines = self.metrics.lines
        lines.labels("accepted", source).inc(batch.accepted)
        lines.labels("rejected", source).inc(batch.rejected)
        lines.labels("skipped", source).inc(batch.skipped)
        if batch.aggregator.newest is not None:  # negative: lines from the future (a zone or clock wrong)
            self.metrics.lag.set(time.time() - batch.aggregator.newest)
        return answer

    async def _write(self, batch: Prepared, answer: dict[str, Any], idempotency_key: str | None) -> dict[str, Any] | None:
        agg = batch.aggregator
        fes, bes, srvs = agg.names()
        await self.names.resolve(self.redis, {FRONTEND: fes, BACKEND: bes, SERVER: srvs})
        now = time.time()
        deltas = await asyncio.to_thread(agg.fold, self.names.rename, late_before=now - self.late_line_seconds,
                                         future_after=now + self.late_line_seconds)
        used: dict[str, set[str]] = {FRONTEND: set(), BACKEND: set(), SERVER: set(), PAIR: set()}
        for kind, name, _minute in deltas.scopes:
            if kind in used:
                used[kind].add(name)
        if isinstance(self.redis, RedisCluster):
            previous = await write_batch_cluster(self.redis, deltas, names=used, ttl=self.ttl, result=answer,
                                                 idempotency_key=idempotency_key, durability=self.durability)
        else:
            previous = await write_batch(self.redis, deltas, names=used, ttl=self.ttl, result=answer,
                                         idempotency_key=idempotency_key, durability=self.durability)
        if previous is None:
            self.metrics.golden.observe(deltas)
            self.metrics.late_lines.inc(deltas.late_lines)
            self.metrics.future_lines.inc(deltas.future_lines)
        return previous

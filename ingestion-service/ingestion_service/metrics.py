"""Prometheus metrics of the ingestion-service (names in docs/metrics.md, kept exactly).

The golden-signal series are fed once per batch from the aggregated deltas (not per line):
a custom collector holds the cumulative values, labels bounded by the name cap.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from ingestion_service.signals.aggregate import BACKEND, DURATION_BUCKETS_MS, BatchDeltas

DURATION_BUCKETS = tuple(ms / 1000 for ms in DURATION_BUCKETS_MS)


class GoldenSignals(Collector):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str, str], int] = {}  # frontend, backend, server, class
        self.hist: dict[tuple[str, str], list[float]] = {}  # per-bucket counts + [sum_seconds]
        self.queue_max: dict[tuple[str, str], int] = {}
        self.actconn_max: dict[str, int] = {}
        self.retries: dict[str, int] = {}
        self.terminations: dict[tuple[str, str, str], int] = {}  # backend, server, state
        self.queued: dict[str, int] = {}

    def observe(self, deltas: BatchDeltas) -> None:
        with self._lock:
            for (fe, be), pair in deltas.pairs.items():
                for (server, cls), c in pair.servers.items():
                    key = (fe, be, server, cls)
                    self.requests[key] = self.requests.get(key, 0) + c
                for (server, state), c in pair.terminations.items():
                    tkey = (be, server, state)
                    self.terminations[tkey] = self.terminations.get(tkey, 0) + c
                h = self.hist.get((fe, be))
                if h is None:
                    h = self.hist[(fe, be)] = [0.0] * (len(DURATION_BUCKETS) + 2)
                for i, c in enumerate(pair.prom):
                    h[i] += c
                h[-1] += pair.ta_sum_ms / 1000
            batch_queue: dict[tuple[str, str], int] = {}
            batch_act: dict[str, int] = {}
            for (kind, name, _minute), d in deltas.scopes.items():
                if kind != BACKEND:
                    continue
                for field, queue in (("sq", "srv"), ("bq", "backend")):
                    key = (name, queue)
                    batch_queue[key] = max(batch_queue.get(key, 0), d.maxima.get(field, 0))
                batch_act[name] = max(batch_act.get(name, 0), d.maxima.get("ac", 0))
                self.retries[name] = self.retries.get(name, 0) + d.sums.get("rt", 0)
                self.queued[name] = self.queued.get(name, 0) + d.sums.get("qd", 0)
            self.queue_max.update(batch_queue)
            self.actconn_max.update(batch_act)

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        with self._lock:
            req = CounterMetricFamily("oncall_requests", "requests seen in HAProxy logs",
                                      labels=["frontend", "backend", "server", "code_class"])
            for labels, v in self.requests.items():
                req.add_metric(list(labels), v)
            dur = HistogramMetricFamily("oncall_request_duration_seconds", "HAProxy Ta (total active time)",
                                        labels=["frontend", "backend"])
            for (fe, be), h in self.hist.items():
                cumulative, buckets = 0.0, []
                for bound, c in zip((*DURATION_BUCKETS, float("inf")), h[:-1]):
                    cumulative += c
                    buckets.append((str(bound) if bound != float("inf") else "+Inf", cumulative))
                dur.add_metric([fe, be], buckets, h[-1])
            qmax = GaugeMetricFamily("oncall_haproxy_queue_max", "highest queue in the latest batch",
                                     labels=["backend", "queue"])
            for labels, v in self.queue_max.items():
                qmax.add_metric(list(labels), v)
            act = GaugeMetricFamily("oncall_haproxy_actconn_max", "highest actconn in the latest batch",
                                    labels=["backend"])
            for be, v in self.actconn_max.items():
                act.add_metric([be], v)
            retries = CounterMetricFamily("oncall_haproxy_retries", "HAProxy retries", labels=["backend"])
            for be, v in self.retries.items():
                retries.add_metric([be], v)
            queued = CounterMetricFamily("oncall_haproxy_queued_requests", "requests that waited in a queue",
                                         labels=["backend"])
            for be, v in self.queued.items():
                queued.add_metric([be], v)
            terms = CounterMetricFamily("oncall_haproxy_terminations",
                                        "requests that ended abnormally, by HAProxy termination state (first two characters)",
                                        labels=["backend", "server", "state"])
            for labels, v in self.terminations.items():
                terms.add_metric(list(labels), v)
        yield from (req, dur, qmax, act, retries, queued, terms)


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.golden = GoldenSignals()
        registry.register(self.golden)
        self.lines = Counter("oncall_ingest_lines", "log lines read", ["result", "source"], registry=registry)
        self.batches = Counter("oncall_ingest_batches", "batches written", ["outcome"], registry=registry)
        self.lag = Gauge("oncall_ingest_lag_seconds",
                         "now - timestamp of the newest ingested line (negative: lines from the future)",
                         registry=registry)
        self.late_lines = Counter("oncall_ingest_late_lines",
                                  "lines older than LATE_LINE_SECONDS: stored, kept out of the exported series",
                                  registry=registry)
        self.future_lines = Counter("oncall_ingest_future_lines",
                                    "lines dated more than LATE_LINE_SECONDS ahead of now (clock or LOG_TIMEZONE wrong)",
                                    registry=registry)
        self.names_folded = Counter("oncall_ingest_names_folded",
                                    "new names refused by the hourly name cap (counted as __other__)",
                                    ["kind"], registry=registry)
        self.udp_dropped = Counter("oncall_ingest_udp_dropped", "syslog datagrams dropped (buffer full)",
                                   registry=registry)
        self.udp_kernel_drops = Counter(
            "oncall_ingest_udp_kernel_drops", "syslog datagrams the kernel dropped (socket receive queue full)",
            registry=registry)
        self.udp_rcvbuf = Gauge("oncall_ingest_udp_rcvbuf_bytes",
                                "effective receive buffer of the syslog UDP socket (as the kernel reports it)",
                                registry=registry)
        self.udp_buffer = Gauge("oncall_ingest_udp_buffer_lines", "lines waiting in the syslog buffer",
                                registry=registry)
        self.redis_used = Gauge("oncall_redis_used_memory_bytes", "Redis used_memory", registry=registry)
        self.redis_max = Gauge("oncall_redis_maxmemory_bytes", "Redis maxmemory", registry=registry)
        self.redis_up = Gauge("oncall_redis_up", "1 when ingestion's periodic Redis INFO succeeded, else 0",
                              registry=registry)
        for result in ("accepted", "rejected", "skipped"):
            for source in ("http", "syslog"):
                self.lines.labels(result, source)
        for outcome in ("ok", "duplicate", "redis_error"):
            self.batches.labels(outcome)

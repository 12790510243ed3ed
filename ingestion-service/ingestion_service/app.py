from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis.exceptions as rex
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from oncall_common.health import ready_router
from oncall_common.security import BearerAuth
from oncall_common.web import create_base_app
from ingestion_service.api.deps import redis_client
from ingestion_service.api.errors import validation_detail
from ingestion_service.api.logs import logs_router
from ingestion_service.api.metrics import metrics_router
from ingestion_service.haproxy.models import ParseOptions
from ingestion_service.ingest.pipeline import Ingestor
from ingestion_service.metrics import IngestMetrics
from ingestion_service.parse_pool import start_pool
from ingestion_service.queries.window import InvalidQuery
from ingestion_service.settings import Settings
from ingestion_service.store.client import Store, is_cluster, open_store, server_info
from ingestion_service.store.durability import Durability, ReplicasUnavailable
from ingestion_service.syslog_udp import SyslogListener

log = logging.getLogger(__name__)
REDIS_GAUGE_SECONDS = 5.0


async def _refresh_redis_gauges(client: Store, metrics: IngestMetrics) -> None:
    while True:
        try:
            info = await server_info(client, "memory")
            metrics.redis_used.set(int(info.get("used_memory", 0)))
            metrics.redis_max.set(int(info.get("maxmemory", 0)))
            metrics.redis_up.set(1)
        except Exception as exc:  # noqa: BLE001 - a gauge must not kill the service
            metrics.redis_up.set(0)
            log.debug("redis memory not read: %s", exc)
        await asyncio.sleep(REDIS_GAUGE_SECONDS)


def create_app(settings: Settings, *, redis: Store | None = None,
               clock: Callable[[], float] = time.time) -> FastAPI:
    """`clock` (wall time) decides the name cap's hour; tests pass their own."""
    registry = CollectorRegistry()
    metrics = IngestMetrics(registry)
    auth = BearerAuth(settings.ingest_token, name="INGEST_TOKEN")
    # /metrics/*: READ_TOKEN or INGEST_TOKEN, as soon as either is set (the agent sends one as its
    # INGESTION_READ_TOKEN); open, with a warning, only when both are unset.
    read_auth = BearerAuth((settings.read_token, settings.ingest_token), name="READ_TOKEN")
    metrics_auth = BearerAuth(settings.metrics_token, name="METRICS_TOKEN")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis or open_store(redis_url=settings.redis_url, cluster_urls=settings.redis_cluster_urls,
                                     timeout_s=settings.redis_timeout_seconds)
        # On a cluster, or waiting for replicas, the writes get a client of their own that never
        # re-sends (store/cluster_writer.py, store/waited.py)
        own_writer = is_cluster(client) or settings.redis_wait_replicas > 0
        writer = client if redis is not None or not own_writer else open_store(
            redis_url=settings.redis_url, cluster_urls=settings.redis_cluster_urls,
            timeout_s=settings.redis_timeout_seconds, writer=True)
        ingestor = Ingestor(writer, metrics, ttl_seconds=settings.retention_hours * 3600,
                            name_cap=settings.name_cap, server_cap=settings.server_name_cap,
                            late_line_seconds=settings.late_line_seconds,
                            parse_options=ParseOptions(settings.log_timezone, settings.haproxy_log_format),
                            clock=clock, durability=Durability(settings.redis_wait_replicas,
                                                               settings.redis_wait_timeout_ms))
        listener = None
        if settings.syslog_udp_port:
            listener = SyslogListener(ingestor, metrics, host=settings.host,
                                      port=settings.syslog_udp_port, capacity=settings.syslog_buffer_lines,
                                      flush_seconds=settings.syslog_flush_seconds,
                                      rcvbuf=settings.syslog_rcvbuf_bytes)
            await listener.start()
        pool = await start_pool(settings.parse_workers)
        app.state.redis, app.state.ingestor, app.state.parse_pool = client, ingestor, pool  # read by api/deps.py
        gauges = asyncio.create_task(_refresh_redis_gauges(client, metrics))
        try:
            yield
        finally:
            gauges.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await gauges
            if listener:
                await listener.stop()
            if pool is not None:
                await asyncio.to_thread(pool.shutdown)  # joins worker processes
            if redis is None:
                await client.aclose()
                if writer is not client:
                    await writer.aclose()

    app = create_base_app(settings, service="ingestion-service", registry=registry, lifespan=lifespan,
                          metrics_auth=metrics_auth)

    @app.exception_handler(InvalidQuery)
    async def invalid_query(request: Request, exc: InvalidQuery) -> JSONResponse:
        return JSONResponse({"detail": validation_detail(["query", exc.param], str(exc))}, status_code=422)

    @app.exception_handler(rex.ClusterError)
    @app.exception_handler(rex.RedisClusterException)
    @app.exception_handler(rex.AskError)
    @app.exception_handler(rex.TryAgainError)
    async def cluster_in_motion(request: Request, exc: Exception) -> JSONResponse:
        # Redis Cluster failing over or resharding: the client retries (writes: cluster_writer.py)
        log.warning("redis cluster unavailable: %s", exc)
        return JSONResponse({"detail": "storage unavailable, retry later"}, status_code=503,
                            headers={"Retry-After": "1"})

    @app.exception_handler(ReplicasUnavailable)
    async def replicas_short(request: Request, exc: ReplicasUnavailable) -> JSONResponse:
        # REDIS_WAIT_REPLICAS not met: written on the master, not acknowledged (store/durability.py)
        log.warning("batch not acknowledged: %s", exc)
        return JSONResponse({"detail": f"not acknowledged: {exc.reason}; retry later with the same "
                                       "Idempotency-Key"}, status_code=503, headers={"Retry-After": "1"})

    app.include_router(ready_router(redis_client))
    app.include_router(logs_router(auth))
    app.include_router(metrics_router(read_auth))
    return app

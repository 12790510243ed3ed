from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
import redis.asyncio as aioredis
from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry

from oncall_common.security import BearerAuth
from oncall_common.web import create_base_app
from agent_service.api import analyze, reports
from agent_service.engine import Engine
from agent_service.incidents.install import install_incidents
from agent_service.ingestion_client import IngestionClient
from agent_service.llm.metrics import LlmMetrics
from agent_service.metrics import AgentMetrics
from agent_service.orchestrator import Analyzer, SimilarHook
from agent_service.report.store import ReportStore
from agent_service.rules import RulesEngine
from agent_service.settings import Settings
from agent_service.tools.base import Tool

log = logging.getLogger(__name__)


def build_engine(settings: Settings, *, llm_metrics: LlmMetrics | None = None) -> Engine:
    """LLM_ENGINE=rules → the rules engine; anthropic (or auto with a key) → the Claude engine."""
    if settings.engine_kind() == "rules":
        return RulesEngine()
    from agent_service.llm.client import LlmConfig
    from agent_service.llm.engine import AnthropicEngine

    return AnthropicEngine(LlmConfig.from_settings(settings), metrics=llm_metrics)


def create_app(
    settings: Settings,
    *,
    redis: aioredis.Redis | None = None,
    http: httpx.AsyncClient | None = None,
    engine: Engine | None = None,
    extra_tools: Sequence[Tool] = (),
    similar_incidents: SimilarHook | None = None,
) -> FastAPI:
    """`http` is the client for ingestion-service (its base_url set); `engine` overrides LLM_ENGINE.

    `app.state.analyzer.analyze(AnalyzeRequest)` runs one analysis for other parts of the service;
    `extra_tools` reach every specialist and the synthesis; `similar_incidents` fills the report's
    similar_incidents."""
    registry = CollectorRegistry()
    llm_metrics = LlmMetrics(registry)
    metrics = AgentMetrics(registry, tool_calls=llm_metrics.tool_calls)
    own_engine = engine is None
    engine = engine or build_engine(settings, llm_metrics=llm_metrics)
    redis_client = redis or aioredis.Redis.from_url(settings.redis_url)
    ingestion = (
        IngestionClient(http)
        if http is not None
        else IngestionClient.create(settings.ingestion_url, timeout_s=settings.ingestion_timeout_s)
    )
    store = ReportStore(redis_client, ttl_s=settings.report_ttl_s)
    analyzer = Analyzer(
        engine=engine,
        ingestion=ingestion,
        settings=settings,
        metrics=metrics,
        extra_tools=extra_tools,
        similar_incidents=similar_incidents,
        save_report=store.save,
        meter_tools=engine.kind != "anthropic",
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("agent-service engine: %s", engine.kind)
        try:
            yield
        finally:
            if http is None:
                await ingestion.aclose()
            if own_engine and hasattr(engine, "aclose"):
                await engine.aclose()
            if redis is None:
                await redis_client.aclose()

    app = create_base_app(settings, service="agent-service", registry=registry, lifespan=lifespan)
    app.state.redis = redis_client
    app.state.analyzer = analyzer
    app.state.engine = engine
    app.state.reports = store
    app.state.metrics = metrics
    app.state.llm_metrics = llm_metrics
    app.state.registry = registry
    install_incidents(app, settings, registry=registry)  # POST /alerts, /incidents, alert worker

    auth = [Depends(BearerAuth(settings.api_token, name="API_TOKEN"))]
    app.include_router(analyze.router, dependencies=auth)
    app.include_router(reports.router, dependencies=auth)

    @app.get("/health/ready", include_in_schema=False)
    async def ready() -> dict[str, str]:
        await app.state.redis.ping()
        return {"status": "ready"}

    return app

"""The composition root: `create_app` builds every part of the agent-service, in the order they
depend on each other, under one lifespan. Nothing is looked up or patched after it is built."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from oncall_common.health import ready_router
from oncall_common.security import BearerAuth
from oncall_common.web import create_base_app
from agent_service.api.alerts import alerts_router
from agent_service.api.analyze import analyze_router
from agent_service.api.deps import redis_client
from agent_service.api.events import events_router, github_router
from agent_service.api.incidents import incidents_router
from agent_service.api.integrations import slack_router, telegram_router
from agent_service.api.proposals import proposals_router
from agent_service.api.reports import reports_router
from agent_service.console.mount import mount_console
from agent_service.container import Agent
from agent_service.engine import Engine
from agent_service.events.store import EventStore
from agent_service.events.tool import GetChangesTool
from agent_service.incidents.analysis import IncidentAnalysis
from agent_service.incidents.config import ServiceConfig
from agent_service.incidents.escalation import EscalationPolicy
from agent_service.incidents.followup import FollowUpPolicy
from agent_service.incidents.handoff import TextWriter
from agent_service.incidents.impact import BadThresholds
from agent_service.incidents.intake import AlertIntake
from agent_service.incidents.memory import IncidentMemory
from agent_service.incidents.metrics import IncidentMetrics
from agent_service.incidents.notifications import Notifications
from agent_service.incidents.notify_retry import RetryPolicy
from agent_service.incidents.service import IncidentService
from agent_service.incidents.store import IncidentStore
from agent_service.incidents.watchdog import Watchdog
from agent_service.incidents.worker import AlertWorker, WorkerConfig
from agent_service.ingestion_client import IngestionClient
from agent_service.migrate import backfill_list_indexes, migrate_keys
from agent_service.llm.metrics import LlmMetrics
from agent_service.metrics import AgentMetrics
from agent_service.notifier_client import NotifierClient
from agent_service.orchestrator import Analysis, Analyzer, SimilarHook
from agent_service.prometheus.client import PrometheusClient
from agent_service.prometheus.summary import Bounds
from agent_service.remediation.haproxy import RuntimeClient, parse_sockets
from agent_service.remediation.github_filer import github_filer
from agent_service.remediation.ports import ChangeFiler
from agent_service.remediation.service import RemediationService
from agent_service.remediation.tool import ProposeRemediationTool
from agent_service.report.store import ReportStore
from agent_service.rules import RulesEngine
from agent_service.runbooks.index import KnowledgeIndex
from agent_service.runbooks.tool import SearchRunbooksTool
from agent_service.rules.rules_engine import limits_from
from agent_service.settings import Settings
from agent_service.state_redis import open_state_redis
from agent_service.tools.base import Tool
from agent_service.tools.prometheus import prometheus_tools

log = logging.getLogger(__name__)


def build_engine(settings: Settings, *, llm_metrics: LlmMetrics | None = None) -> Engine:
    """LLM_ENGINE=rules → the rules engine; openai → the OpenAI-compatible engine; anthropic (or
    auto with a key) → the Claude engine."""
    kind = settings.engine_kind()
    if kind == "rules":
        return RulesEngine(limits_from(settings))
    from agent_service.llm.client import LlmConfig

    if kind == "openai":
        from agent_service.llm.openai_engine import OpenAIEngine

        return OpenAIEngine(LlmConfig.for_openai(settings), metrics=llm_metrics)
    from agent_service.llm.anthropic_engine import AnthropicEngine

    return AnthropicEngine(LlmConfig.from_settings(settings), metrics=llm_metrics)


def handoff_writer(settings: Settings, engine: Engine) -> TextWriter | None:
    """A model engine writes handoffs when it is the configured engine; else the rules do."""
    if settings.engine_kind() in ("anthropic", "openai") and isinstance(engine, TextWriter):
        return engine
    return None


def service_config(settings: Settings) -> ServiceConfig:
    return ServiceConfig(
        public_url=settings.public_url,
        analysis_timeout_s=settings.incident_analysis_timeout_s,
        alert_lookback_s=settings.alert_lookback_s,
        analysis_slot_wait_s=settings.incident_analysis_slot_wait_s,
        bad_minute=BadThresholds(
            error_5xx_pct=settings.error_5xx_warning_pct, p95_ms=settings.latency_p95_warning_ms, min_requests=1
        ),
        quiet_minutes=settings.auto_resolve_quiet_minutes,
        notify_retry=RetryPolicy(
            base_s=settings.notify_retry_base_s, max_s=settings.notify_retry_max_s,
            give_up_s=settings.notify_give_up_s,
        ),
    )


def build_notifier(settings: Settings, transport: httpx.AsyncBaseTransport | None) -> NotifierClient | None:
    if not settings.notifier_url:
        return None
    return NotifierClient(settings.notifier_url, token=settings.notifier_token, timeout_s=settings.notifier_timeout_s,
                          attempts=settings.notifier_attempts, transport=transport)


def build_prometheus(settings: Settings) -> PrometheusClient | None:
    """PROMETHEUS_URL set: the client behind the query_prometheus and list_alerts tools."""
    if not settings.prometheus_url:
        return None
    return PrometheusClient.create(settings.prometheus_url, timeout_s=settings.prometheus_timeout_s)


def escalation_policy(settings: Settings) -> EscalationPolicy:
    return EscalationPolicy.parse(settings.escalation_to, after_s=settings.escalate_after_s)


def chat_enabled(settings: Settings) -> bool:
    return bool(settings.slack_signing_secret or settings.telegram_webhook_secret)


def include_chat(app: FastAPI, settings: Settings) -> None:
    """The chat routes exist only when their secret is set (unset: 404)."""
    if settings.slack_signing_secret:
        app.include_router(slack_router(settings.slack_signing_secret, public_url=settings.public_url))
    if settings.telegram_webhook_secret:
        app.include_router(telegram_router(
            settings.telegram_webhook_secret, bot_token=settings.telegram_bot_token,
            api_url=settings.telegram_api_url, chat_ids=settings.telegram_chat_id, public_url=settings.public_url))


def build_runtime(settings: Settings) -> RuntimeClient | None:
    """HAPROXY_RUNTIME_SOCKETS set: the Runtime API client the approved runtime actions go through."""
    sockets = parse_sockets(settings.haproxy_runtime_sockets)
    return RuntimeClient(sockets, timeout_s=settings.haproxy_runtime_timeout_s) if sockets else None


async def open_knowledge(settings: Settings, memory: IncidentMemory) -> KnowledgeIndex | None:
    """RUNBOOKS_DIR set: the runbooks indexed now (and again when a file changes)."""
    if not settings.runbooks_dir:
        return None
    index = KnowledgeIndex(settings.runbooks_dir)
    await index.arefresh()
    return index


def knowledge_tools(index: KnowledgeIndex | None, memory: IncidentMemory) -> list[Tool]:
    return [] if index is None else [SearchRunbooksTool(index, incidents=memory.documents)]


@asynccontextmanager
async def running(worker: AlertWorker, *, enabled: bool) -> AsyncIterator[None]:
    """The alert worker's loop for the life of the app (when ALERT_WORKER_ENABLED)."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="alert-worker") if enabled else None
    try:
        yield
    finally:
        if task is not None:
            # A cancelled blocking XREADGROUP can hang redis-py: ask the loop to stop first;
            # an entry being processed is left pending and re-claimed by the next worker.
            stop.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), worker.config.block_ms / 1000 + 5)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await worker.close()


def create_app(
    settings: Settings,
    *,
    redis: aioredis.Redis | None = None,
    http: httpx.AsyncClient | None = None,
    engine: Engine | None = None,
    analyzer: Analysis | None = None,
    notifier_transport: httpx.AsyncBaseTransport | None = None,
    extra_tools: Sequence[Tool] = (),
    similar_incidents: SimilarHook | None = None,
    change_filer: ChangeFiler | None = None,
) -> FastAPI:
    """Everything not passed in is built from `settings`; what is passed in is not closed here.

    `http`: the client for ingestion-service (its base_url set); `engine` overrides LLM_ENGINE;
    `analyzer` replaces the whole analysis (POST /analyze and incident analyses alike);
    `extra_tools` reach every specialist and the synthesis besides `search_past_incidents`,
    `get_changes` (and `query_prometheus`, `list_alerts` when PROMETHEUS_URL is set);
    `similar_incidents` fills the report's similar_incidents instead of the incident memory;
    `change_filer` files approved proposals (default: GitHub when GITHUB_TOKEN and GITHUB_REPO are set)."""
    registry = CollectorRegistry()
    llm_metrics = LlmMetrics(registry)
    metrics = AgentMetrics(registry, tool_calls=llm_metrics.tool_calls)
    incident_metrics = IncidentMetrics(registry)
    the_engine = engine or build_engine(settings, llm_metrics=llm_metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("agent-service engine: %s", the_engine.kind)
        client = redis or open_state_redis(settings.redis_url)  # standalone only: docs/cluster.md
        try:
            await migrate_keys(client)
            await backfill_list_indexes(client)
        except RedisError as exc:  # Redis down at start-up: the service starts; readiness says so
            log.warning("legacy Redis keys not migrated or indexed yet (%s); retried at the next start", exc)
        ingestion = (IngestionClient(http, token=settings.ingestion_read_token) if http is not None
                     else IngestionClient.create(settings.ingestion_url, timeout_s=settings.ingestion_timeout_s,
                                                 token=settings.ingestion_read_token))
        reports = ReportStore(client, ttl_s=settings.report_ttl_s)
        escalation = escalation_policy(settings)
        store = IncidentStore(client, escalation=escalation,
                              follow_up=FollowUpPolicy(after_s=settings.follow_up_analysis_s))
        memory = IncidentMemory(store)
        events = EventStore(client, retention_s=settings.events_retention_s, cap=settings.events_max)
        prometheus = build_prometheus(settings)
        evidence_tools = prometheus_tools(prometheus, Bounds(
            max_series=settings.prometheus_max_series, max_points=settings.prometheus_max_points)) if prometheus else ()
        knowledge = await open_knowledge(settings, memory)
        runtime = build_runtime(settings)
        the_analyzer = analyzer or Analyzer(
            engine=the_engine, ingestion=ingestion, settings=settings, metrics=metrics,
            extra_tools=[*extra_tools, *evidence_tools, memory.tool(), GetChangesTool(events),
                         *knowledge_tools(knowledge, memory), ProposeRemediationTool()],
            similar_incidents=similar_incidents or memory.similar_incidents,
            save_report=reports.save,
            meter_tools=the_engine.kind == "rules",  # the model engines count their own tool calls
            remediation_runtime=runtime is not None,
        )
        notifier = build_notifier(settings, notifier_transport)
        config = service_config(settings)
        notifications = Notifications(store, notifier, incident_metrics, public_url=config.public_url,
                                      policy=config.notify_retry)
        analysis = IncidentAnalysis(store, analyzer=the_analyzer, ingestion=ingestion, config=config)
        incidents = IncidentService(client, store=store, analysis=analysis, notifications=notifications,
                                    metrics=incident_metrics, config=config)
        watchdog = Watchdog(client, service=incidents, alertname=settings.watchdog_alertname,
                            timeout_s=settings.watchdog_timeout_s)
        worker = AlertWorker(client, incidents, incident_metrics, watchdog=watchdog,
                             config=WorkerConfig(claim_idle_ms=int(settings.alert_claim_idle_s * 1000)),
                             escalation=escalation)
        # A plain client: our request ids and traces are not sent to Slack or Telegram.
        chat_http = httpx.AsyncClient(timeout=settings.chat_timeout_s) if chat_enabled(settings) else None
        github = github_filer(settings, client) if change_filer is None else None
        app.state.agent = Agent(
            redis=client, ingestion=ingestion, engine=the_engine, reports=reports, store=store, memory=memory,
            analyzer=the_analyzer, notifier=notifier, incidents=incidents,
            intake=AlertIntake(client, dedup_ttl_s=settings.alert_dedup_ttl_s), watchdog=watchdog, worker=worker,
            chat_http=chat_http, events=events,
            remediation=RemediationService(store, runtime=runtime, execute=settings.remediation_execute,
                                           filer=change_filer or (github[1] if github else None)),
        )
        try:
            async with running(worker, enabled=settings.alert_worker_enabled):
                yield
        finally:
            if notifier is not None:
                await notifier.aclose()
            if github is not None:
                await github[0].aclose()
            if chat_http is not None:
                await chat_http.aclose()
            if prometheus is not None:
                await prometheus.aclose()
            if http is None:
                await ingestion.aclose()
            if engine is None and hasattr(the_engine, "aclose"):
                await the_engine.aclose()
            if redis is None:
                await client.aclose()
            if knowledge is not None:
                knowledge.close()

    app = create_base_app(settings, service="agent-service", registry=registry, lifespan=lifespan)
    api_auth = BearerAuth(settings.api_token, name="API_TOKEN")
    app.include_router(analyze_router(api_auth))
    app.include_router(reports_router(api_auth))
    app.include_router(alerts_router(BearerAuth(settings.alerts_token, name="ALERTS_TOKEN"), incident_metrics,
                                     max_body_bytes=settings.alerts_max_body_bytes))
    app.include_router(incidents_router(api_auth, handoff_writer=handoff_writer(settings, the_engine)))
    include_chat(app, settings)
    app.include_router(proposals_router(api_auth))
    app.include_router(events_router(api_auth))
    if settings.github_webhook_secret:  # unset: the route does not exist (404)
        app.include_router(github_router(settings.github_webhook_secret))

    if settings.console_enabled:  # the web console under /console/ (agent_service/console, issue 17)
        mount_console(app, settings)

    app.include_router(ready_router(redis_client))
    return app

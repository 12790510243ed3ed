"""The parts of one running agent-service, built once by `app.create_app`'s lifespan (in the
order they depend on each other) and handed to the routes as dependencies (api/deps.py)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import redis.asyncio as aioredis

from agent_service.engine import Engine
from agent_service.events.store import EventStore
from agent_service.incidents.intake import AlertIntake
from agent_service.incidents.memory import IncidentMemory
from agent_service.incidents.service import IncidentService
from agent_service.incidents.store import IncidentStore
from agent_service.incidents.watchdog import Watchdog
from agent_service.incidents.worker import AlertWorker
from agent_service.ingestion_client import IngestionClient
from agent_service.notifier_client import NotifierClient
from agent_service.orchestrator import Analysis
from agent_service.remediation.service import RemediationService
from agent_service.report.store import ReportStore


@dataclass(frozen=True)
class Agent:
    redis: aioredis.Redis
    ingestion: IngestionClient
    engine: Engine
    reports: ReportStore
    store: IncidentStore
    memory: IncidentMemory
    analyzer: Analysis
    notifier: NotifierClient | None
    incidents: IncidentService
    intake: AlertIntake
    watchdog: Watchdog
    worker: AlertWorker
    events: EventStore | None = None  # change events (api/events.py, the get_changes tool)
    chat_http: httpx.AsyncClient | None = None  # Slack response_url, Telegram sendMessage (api/integrations.py)
    remediation: RemediationService | None = None  # proposals: approve, reject, undo (api/proposals.py)

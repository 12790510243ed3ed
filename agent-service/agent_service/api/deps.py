"""The routes' collaborators as `Annotated` dependencies: the one place that reads the running
agent (container.Agent, put on app.state by the lifespan). Async: no thread hop per request."""

from __future__ import annotations

from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, HTTPException, Request

from agent_service.container import Agent
from agent_service.incidents.intake import AlertIntake
from agent_service.incidents.service import IncidentService
from agent_service.incidents.watchdog import Watchdog
from agent_service.incidents.worker import AlertWorker
from agent_service.orchestrator import Analysis, Busy, Slot
from agent_service.remediation.service import RemediationService
from agent_service.report.store import ReportStore


async def _agent(request: Request) -> Agent:
    return request.app.state.agent  # type: ignore[no-any-return]


AgentDep = Annotated[Agent, Depends(_agent)]


async def redis_client(agent: AgentDep) -> aioredis.Redis:
    return agent.redis


async def _analyzer(agent: AgentDep) -> Analysis:
    return agent.analyzer


async def _reports(agent: AgentDep) -> ReportStore:
    return agent.reports


async def _incidents(agent: AgentDep) -> IncidentService:
    return agent.incidents


async def _intake(agent: AgentDep) -> AlertIntake:
    return agent.intake


async def _watchdog(agent: AgentDep) -> Watchdog:
    return agent.watchdog


async def _worker(agent: AgentDep) -> AlertWorker:
    return agent.worker


def slot_or_429(analyzer: Analysis) -> Slot:
    """One of the MAX_ANALYSES slots for work that costs an analysis, or 429 with Retry-After."""
    try:
        return analyzer.limiter.try_slot()
    except Busy as exc:
        raise HTTPException(status_code=429, detail=f"too many analyses: {exc}", headers={"Retry-After": "5"}) from exc


async def _remediation(agent: AgentDep) -> RemediationService:
    assert agent.remediation is not None  # built by the lifespan
    return agent.remediation


AnalyzerDep = Annotated[Analysis, Depends(_analyzer)]
ReportsDep = Annotated[ReportStore, Depends(_reports)]
IncidentsDep = Annotated[IncidentService, Depends(_incidents)]
IntakeDep = Annotated[AlertIntake, Depends(_intake)]
WorkerDep = Annotated[AlertWorker, Depends(_worker)]
WatchdogDep = Annotated[Watchdog, Depends(_watchdog)]
RemediationDep = Annotated[RemediationService, Depends(_remediation)]

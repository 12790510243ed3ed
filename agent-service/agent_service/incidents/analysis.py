"""Carrying out an incident's pending `analyze` action: started (stored) → the analysis under one
of the MAX_ANALYSES slots → the first bad minute → the outcome stored with the action's removal."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from functools import partial

from agent_service.incidents import impact
from agent_service.incidents.config import ServiceConfig
from agent_service.incidents.lifecycle import now_utc
from agent_service.incidents.models import Incident, PendingAction
from agent_service.incidents.outcomes import AnalysisOutcome, analysis_started, record_analysis, was_started
from agent_service.incidents.store import IncidentStore
from agent_service.ingestion_client import IngestionClient
from agent_service.models import AlertRef, AnalyzeRequest, IncidentReport
from agent_service.orchestrator import Analysis
from agent_service.window import alert_baseline_end, incident_window

log = logging.getLogger(__name__)


def alert_refs(incident: Incident) -> list[AlertRef]:
    """The incident's distinct alert names, each with a runbook_url annotation when one has it (at most 20)."""
    refs: dict[str, AlertRef] = {}
    for alert in incident.alerts:
        name = (alert.labels.get("alertname") or "")[:200]
        url = (alert.annotations.get("runbook_url") or "")[:1000] or None
        if name and (name not in refs or (url and not refs[name].runbook_url)):
            refs[name] = AlertRef(name=name, runbook_url=url)
    return list(refs.values())[:20]


class IncidentAnalysis:
    def __init__(self, store: IncidentStore, *, analyzer: Analysis | None, ingestion: IngestionClient | None,
                 config: ServiceConfig) -> None:
        self.store = store
        self.analyzer = analyzer
        self.ingestion = ingestion  # for the first bad minute (None: not measured)
        self.config = config

    async def run_analysis(self, incident: Incident, action: PendingAction) -> Incident:
        if not was_started(incident, action.key):
            incident, _ = await self.store.update(incident.id, partial(analysis_started, key=action.key, at=now_utc()))
        report, error, over_limit = await self._run(incident)
        first_bad = await self._first_bad_minute(incident) if report is not None else None
        outcome = AnalysisOutcome(key=action.key, at=now_utc(), report=report, error=error,
                                  over_limit=over_limit, impact_started_at=first_bad)
        return await self.store.finish(incident.id, action.key, partial(record_analysis, outcome=outcome))

    async def _run(self, incident: Incident) -> tuple[IncidentReport | None, str, str | None]:
        """(report or None, why not, over-limit note). One of the MAX_ANALYSES slots that POST
        /analyze uses, waited for at most `analysis_slot_wait_s`, then run over the limit."""
        analyzer, config = self.analyzer, self.config
        if analyzer is None:
            return None, "no analyzer configured", None
        over_limit: str | None = None
        async with analyzer.limiter.waiting(config.analysis_slot_wait_s) as held:
            if not held:
                over_limit = (f"analysis waited {config.analysis_slot_wait_s:g}s for one of the "
                              f"{analyzer.limiter.limit} analysis slots (MAX_ANALYSES) and ran over the limit")
                log.warning("incident %s: %s", incident.id, over_limit)
            request = AnalyzeRequest(
                window=incident_window(incident.detected_at, now_utc()),
                backend=incident.scope.get("backend"), frontend=incident.scope.get("frontend"),
                baseline_end=alert_baseline_end(incident.detected_at, config.alert_lookback_s),
                alerts=alert_refs(incident),
            )  # no `question`: alert text never reaches a model prompt
            try:
                report = await asyncio.wait_for(analyzer.analyze(request), config.analysis_timeout_s)
            except TimeoutError:
                return None, f"analysis timed out after {config.analysis_timeout_s:g}s", over_limit
            except Exception as exc:  # noqa: BLE001 - recorded on the timeline, processing goes on
                log.exception("analysis for incident %s failed", incident.id)
                return None, f"{type(exc).__name__}: {str(exc)[:300]}", over_limit
        return report, "", over_limit

    async def _first_bad_minute(self, incident: Incident) -> datetime | None:
        if self.ingestion is None or incident.detected_at is None:
            return None
        try:
            minutes = await impact.fetch_minutes(
                self.ingestion, alert_at=incident.detected_at,
                backend=incident.scope.get("backend"), frontend=incident.scope.get("frontend"),
            )
        except Exception as exc:  # noqa: BLE001 - the post-mortem then says TTD is not measured
            log.warning("incident %s: signals for the first bad minute unavailable: %s", incident.id, exc)
            return None
        return impact.first_bad_minute(minutes, self.config.bad_minute)

"""Incident operations used by the API and the alert worker: create, change status, note, and
`drain` — carrying out an incident's pending actions (analysis, notifications) after the state
change that decided them is stored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis.asyncio as aioredis

from agent_service.incidents import impact
from agent_service.incidents.lifecycle import acknowledge, now_utc, transition
from agent_service.incidents.metrics import IncidentMetrics
from agent_service.incidents.models import (
    SEVERITY_ORDER,
    Incident,
    IncidentCreate,
    IncidentStatus,
    NoteCreate,
    NotifyEvent,
    PendingAction,
    StatusChange,
)
from agent_service.incidents.notifications import Notifications
from agent_service.incidents.notify_retry import RetryPolicy, next_action
from agent_service.incidents.store import IncidentStore
from agent_service.models import SEVERITY_RANK, AnalyzeRequest, IncidentReport
from agent_service.notifier_client import NotifierClient, idempotency_key

log = logging.getLogger(__name__)

STATUS_EVENTS: dict[IncidentStatus, NotifyEvent] = {
    IncidentStatus.INVESTIGATING: "updated",
    IncidentStatus.MITIGATED: "mitigated",
    IncidentStatus.RESOLVED: "resolved",
}
REPORT_SEVERITY = {"ok": "info", "warning": "warning", "critical": "critical"}
MAX_REPORTS = 10
API_DRAIN_WAIT_S = 2.0  # an API call never waits for a running analysis
LOCK_TTL_S = 15.0


async def _keep_alive(lock: Any, ttl_s: float) -> None:
    """Renew the drain lock's TTL every third of it while its holder lives."""
    while True:
        await asyncio.sleep(ttl_s / 3)
        try:
            await lock.reacquire()
        except Exception:  # noqa: BLE001 - lost the lock: the work stays idempotent
            log.warning("incident drain lock could not be renewed")
            return


class Analyzer(Protocol):
    async def analyze(self, request: AnalyzeRequest) -> IncidentReport: ...


@contextlib.asynccontextmanager
async def _slot(analyzer: Analyzer, wait_s: float) -> AsyncIterator[bool]:
    """One of the analyzer's MAX_ANALYSES slots, shared with POST /analyze; waits at most `wait_s`
    (False: the wait ran out and the analysis runs over the limit). Analyzers without a limiter
    (test doubles) run at once."""
    limiter = getattr(analyzer, "limiter", None)
    if limiter is None:
        yield True
        return
    async with limiter.waiting(wait_s) as held:
        yield held


@dataclass(frozen=True)
class ServiceConfig:
    public_url: str = "http://127.0.0.1:8001"
    analysis_timeout_s: float = 180.0
    analysis_slot_wait_s: float = 60.0  # then run over MAX_ANALYSES rather than drop an alert's analysis
    lock_ttl_s: float = LOCK_TTL_S  # a crashed drainer frees its incident within this
    ingestion_url: str | None = None
    ingestion_timeout_s: float = 5.0
    bad_minute: impact.BadThresholds = impact.BadThresholds()
    quiet_minutes: float = 0.0
    notify_retry: RetryPolicy = RetryPolicy()


def analysis_window(detected_at: datetime | None, now: datetime) -> str:
    """From a few minutes before the alert started to now, in whole minutes (5m…24h); the last
    15 minutes (as POST /analyze) for an incident without an alert (opened by hand)."""
    if detected_at is None:
        return "15m"
    start = detected_at - timedelta(minutes=5)
    minutes = int((now - start).total_seconds() // 60) + 1
    return f"{min(max(minutes, 5), 1440)}m"


class IncidentService:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        notifier: NotifierClient | None,
        analyzer: Callable[[], Analyzer | None],
        metrics: IncidentMetrics,
        config: ServiceConfig,
    ) -> None:
        self.redis = redis
        self.store = IncidentStore(redis)
        self.notifier = notifier
        self.notifications = Notifications(self.store, notifier, metrics, public_url=config.public_url,
                                           policy=config.notify_retry)
        self.analyzer = analyzer
        self.metrics = metrics
        self.config = config

    # --- API operations -------------------------------------------------------------------
    async def create(self, body: IncidentCreate) -> Incident:
        """Open an incident by hand. With `analyze`, an analysis scoped by its backend/frontend is
        queued before the `opened` notification (which then carries the report) and nothing is
        carried out here: the caller hands the incident to a background drain (`spawn_drain`)."""
        now = now_utc()
        incident_id = await self.store.next_id()
        report = body.report
        severity = body.severity
        if report and SEVERITY_RANK[report.overall_severity] > SEVERITY_RANK.get(severity, 0):
            severity = REPORT_SEVERITY[report.overall_severity]  # type: ignore[assignment]
        incident = Incident(
            id=incident_id, title=body.title, severity=severity, summary=body.summary,
            source="analyze" if report else "manual", created_at=now, updated_at=now,
            scope={"backend": body.backend, "frontend": body.frontend},
            reports=[report] if report else [],
        )
        opened = incident.add_event("incident_opened", f"incident opened by {body.actor}", actor=body.actor, at=now)
        acknowledge(incident, actor=body.actor, at=now)
        if body.analyze:
            incident.pending.append(PendingAction(kind="analyze", cause_seq=opened.seq,
                                                  key=idempotency_key(incident_id, "analyze", f"seq{opened.seq}")))
        incident.pending.append(PendingAction(kind="notify", event="opened", cause_seq=opened.seq,
                                              key=idempotency_key(incident_id, "opened", f"seq{opened.seq}")))
        await self.store.create(incident)
        self.metrics.incident_created(incident.source)
        if body.analyze:
            return incident
        return await self.drain(incident_id, wait_s=API_DRAIN_WAIT_S) or incident

    async def change_status(self, incident_id: int, body: StatusChange) -> Incident:
        now = now_utc()

        def change(incident: Incident) -> None:
            event = transition(incident, body.status, actor=body.actor, at=now, reason=body.note or "")
            if body.root_cause:
                incident.root_cause = body.root_cause
            if body.resolution:
                incident.resolution = body.resolution
            notify = STATUS_EVENTS[body.status]
            incident.pending.append(PendingAction(kind="notify", event=notify, cause_seq=event.seq,
                                                  key=idempotency_key(incident_id, notify, f"seq{event.seq}")))

        incident, _ = await self.store.update(incident_id, change)
        return await self.drain(incident_id, wait_s=API_DRAIN_WAIT_S) or incident

    async def add_note(self, incident_id: int, body: NoteCreate) -> Incident:
        now = now_utc()

        def change(incident: Incident) -> None:
            acknowledge(incident, actor=body.actor, at=now)
            if body.kind == "action_item":
                incident.action_items.append(body.text)
            elif body.kind == "root_cause":
                incident.root_cause = body.text
            elif body.kind == "resolution":
                incident.resolution = body.text
            label = "" if body.kind == "note" else f"[{body.kind.replace('_', ' ')}] "
            incident.add_event("note", label + body.text, actor=body.actor, at=now, data={"kind": body.kind})

        incident, _ = await self.store.update(incident_id, change)
        return incident

    async def auto_resolve(self, now: datetime | None = None) -> list[int]:
        """RESOLVED after AUTO_RESOLVE_QUIET_MINUTES in MITIGATED without the group firing again."""
        if self.config.quiet_minutes <= 0:
            return []
        now = now or now_utc()
        cutoff = (now - timedelta(minutes=self.config.quiet_minutes)).timestamp()
        done: list[int] = []
        for incident_id in await self.store.mitigated_before(cutoff):
            try:
                await self.change_status(incident_id, StatusChange(
                    status=IncidentStatus.RESOLVED, actor="system:quiet-period",
                    note=f"no alert for {self.config.quiet_minutes:g} minutes after mitigation"))
                done.append(incident_id)
            except ValueError as exc:  # a human moved it meanwhile
                log.info("auto-resolve of incident %s skipped: %s", incident_id, exc)
        return done

    # --- pending actions --------------------------------------------------------------------
    async def drain(self, incident_id: int, *, max_actions: int = 20, wait_s: float | None = None) -> Incident | None:
        """Carry out the incident's pending actions in order (a notification backing off after a
        notifier failure holds back the later ones; incidents/notify_retry.py). One drainer per incident at a time
        (a Redis lock with a short TTL, kept alive while the drainer lives, so a crashed one frees
        it within `lock_ttl_s`); each action's completion is stored before the next starts. When
        another drainer holds the lock longer than `wait_s`, its loop (or the worker's
        housekeeping) carries out what was added meanwhile."""
        wait = self.config.analysis_timeout_s + 60 if wait_s is None else wait_s
        lock = self.redis.lock(f"lock:incident:{incident_id}", timeout=self.config.lock_ttl_s,
                               blocking_timeout=wait)
        if not await lock.acquire():
            return await self.store.get(incident_id)
        keepalive = asyncio.create_task(_keep_alive(lock, self.config.lock_ttl_s))
        try:
            incident = await self.store.get(incident_id)
            for _ in range(max_actions):
                action = next_action(incident, now_utc()) if incident is not None else None
                if incident is None or action is None:
                    break
                if action.kind == "analyze":
                    incident = await self._analyze(incident, action)
                else:
                    incident = await self.notifications.carry_out(incident, action)
            return incident
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive
            try:
                await lock.release()
            except Exception:  # noqa: BLE001 - expired lock: nothing to release
                log.warning("incident %s: drain lock expired before release", incident_id)

    async def _analyze(self, incident: Incident, action: PendingAction) -> Incident:
        def started(inc: Incident) -> None:
            if inc.status == IncidentStatus.OPEN:
                transition(inc, IncidentStatus.INVESTIGATING, actor="system", at=now_utc())
            inc.add_event("analysis_started", "analysis started", actor="system", at=now_utc(),
                          data={"key": action.key, "scope": inc.scope})

        already = any(e.kind == "analysis_started" and e.data.get("key") == action.key for e in incident.timeline)
        if not already:
            incident, _ = await self.store.update(incident.id, started)
        analyzer = self.analyzer()
        report: IncidentReport | None = None
        error = "no analyzer configured"
        over_limit: str | None = None
        if analyzer is not None:
            async with _slot(analyzer, self.config.analysis_slot_wait_s) as held:
                if not held:
                    over_limit = (f"analysis waited {self.config.analysis_slot_wait_s:g}s for one of the "
                                  f"{analyzer.limiter.limit} analysis slots (MAX_ANALYSES) and ran over the limit")
                    log.warning("incident %s: %s", incident.id, over_limit)
                request = AnalyzeRequest(
                    window=analysis_window(incident.detected_at, now_utc()),
                    backend=incident.scope.get("backend"), frontend=incident.scope.get("frontend"),
                )  # no `question`: alert text never reaches a model prompt
                try:
                    report = await asyncio.wait_for(analyzer.analyze(request), self.config.analysis_timeout_s)
                except TimeoutError:
                    error = f"analysis timed out after {self.config.analysis_timeout_s:g}s"
                except Exception as exc:  # noqa: BLE001 - recorded on the timeline, processing goes on
                    log.exception("analysis for incident %s failed", incident.id)
                    error = f"{type(exc).__name__}: {str(exc)[:300]}"
        first_bad = await self._first_bad_minute(incident) if report is not None else None

        def attach(inc: Incident) -> None:
            at = now_utc()
            if over_limit:
                inc.add_event("analysis_delayed", over_limit, actor="system", at=at, data={"key": action.key})
            if report is None:
                inc.add_event("analysis_failed", f"analysis failed: {error}", actor="system", at=at,
                              data={"key": action.key})
                return
            inc.reports = [*inc.reports, report][-MAX_REPORTS:]
            if SEVERITY_RANK[report.overall_severity] > 0:
                sev = REPORT_SEVERITY[report.overall_severity]
                if SEVERITY_RANK[report.overall_severity] > SEVERITY_ORDER[inc.severity]:
                    inc.severity = sev  # type: ignore[assignment]
            if first_bad and inc.impact_started_at is None:
                inc.impact_started_at = first_bad
            inc.add_event("analysis_finished",
                          f"analysis {report.overall_severity}: {report.title}", actor="system", at=at,
                          data={"key": action.key, "report_id": report.id, "engine": report.engine.kind})

        return await self.store.finish(incident.id, action.key, attach)

    async def _first_bad_minute(self, incident: Incident) -> datetime | None:
        if not self.config.ingestion_url or incident.detected_at is None:
            return None
        try:
            minutes = await impact.fetch_minutes(
                self.config.ingestion_url, alert_at=incident.detected_at,
                backend=incident.scope.get("backend"), frontend=incident.scope.get("frontend"),
                timeout_s=self.config.ingestion_timeout_s,
            )
        except Exception as exc:  # noqa: BLE001 - the post-mortem then says TTD is not measured
            log.warning("incident %s: signals for the first bad minute unavailable: %s", incident.id, exc)
            return None
        return impact.first_bad_minute(minutes, self.config.bad_minute)

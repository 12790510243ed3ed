"""Incident operations used by the API and the alert worker: create, change status, note, and
`drain` — carrying out an incident's pending actions (analysis, notifications) after the state
change that decided them is stored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import redis.asyncio as aioredis

from agent_service.incidents.ack import record_ack
from agent_service.incidents.analysis import IncidentAnalysis
from agent_service.incidents import followup
from agent_service.incidents.escalation import EscalationPolicy, claim_step
from agent_service.incidents.config import ServiceConfig
from agent_service.incidents.lifecycle import acknowledge, now_utc, transition
from agent_service.incidents.metrics import IncidentMetrics
from agent_service.incidents.models import (
    Incident,
    IncidentCreate,
    IncidentStatus,
    NoteCreate,
    NotifyEvent,
    PendingAction,
    StatusChange,
)
from agent_service.incidents.notifications import Notifications
from agent_service.incidents.notify_retry import next_action
from agent_service.incidents.outcomes import REPORT_SEVERITY
from agent_service.incidents.store import IncidentNotFound, IncidentStore
from agent_service.keys import incident_lock_key
from agent_service.remediation.lifecycle import refresh as refresh_proposals
from agent_service.models import SEVERITY_RANK
from agent_service.notifier_client import idempotency_key

log = logging.getLogger(__name__)

STATUS_EVENTS: dict[IncidentStatus, NotifyEvent] = {
    IncidentStatus.INVESTIGATING: "updated",
    IncidentStatus.MITIGATED: "mitigated",
    IncidentStatus.RESOLVED: "resolved",
}
API_DRAIN_WAIT_S = 2.0  # an API call never waits for a running analysis


async def _keep_alive(lock: Any, ttl_s: float) -> None:
    """Renew the drain lock's TTL every third of it while its holder lives."""
    while True:
        await asyncio.sleep(ttl_s / 3)
        try:
            await lock.reacquire()
        except Exception:  # noqa: BLE001 - lost the lock: the work stays idempotent
            log.warning("incident drain lock could not be renewed")
            return


class IncidentService:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        store: IncidentStore,
        analysis: IncidentAnalysis,
        notifications: Notifications,
        metrics: IncidentMetrics,
        config: ServiceConfig,
    ) -> None:
        self.redis = redis  # for the per-incident drain lock
        self.store = store
        self.analysis = analysis
        self.notifications = notifications
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
        if report:
            refresh_proposals(incident, report, now)
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

    async def acknowledge(self, incident_id: int, by: str) -> Incident:
        """`by` takes the incident (incidents/ack.py: the first keeps it; AckRefused when RESOLVED)."""
        now = now_utc()
        incident, _ = await self.store.update(incident_id, partial(record_ack, by=by, at=now))
        return incident

    async def request_analysis(self, incident_id: int, actor: str) -> Incident:
        """Queue a fresh analysis (the console's re-analyse), noted on the timeline; nothing is
        carried out here: the caller hands the incident to a background drain (`spawn_drain`)."""
        now = now_utc()

        def change(incident: Incident) -> None:
            event = incident.add_event("note", f"re-analysis requested by {actor}", actor=actor, at=now,
                                       data={"kind": "analysis_requested"})
            incident.pending.append(PendingAction(kind="analyze", cause_seq=event.seq,
                                                  key=idempotency_key(incident_id, "analyze", f"seq{event.seq}")))

        incident, _ = await self.store.update(incident_id, change)
        return incident

    async def escalate_due(self, policy: EscalationPolicy, now: datetime | None = None) -> list[int]:
        """Claim every due escalation step (one WATCH/MULTI update each: a step is paged once
        whoever claims it); returns the incidents that got a step, whose pages are then drained."""
        now = now or now_utc()
        paged: list[int] = []
        for incident_id, step in await self._claim_each(await self.store.escalations_due(now.timestamp()),
                                                         partial(claim_step, policy=policy, now=now)):
            if step is not None:
                self.metrics.escalation(step)
                log.warning("incident %s: escalation step %s paged", incident_id, step)
                paged.append(incident_id)
        return paged

    async def follow_up_due(self, now: datetime | None = None) -> list[int]:
        """Start every due follow-up analysis (one WATCH/MULTI update each: it runs once whoever
        claims it); returns the incidents that got one, whose analysis and update are then drained."""
        now = now or now_utc()
        started: list[int] = []
        for incident_id, claimed in await self._claim_each(await self.store.follow_ups_due(now.timestamp()),
                                                            partial(followup.claim, policy=self.store.follow_up, now=now)):
            if claimed:
                log.info("incident %s: follow-up analysis started", incident_id)
                started.append(incident_id)
        return started

    async def _claim_each(self, incident_ids: list[int], claim: Any) -> list[tuple[int, Any]]:
        """`claim` applied to each incident in its own WATCH/MULTI update; (id, what it returned),
        an incident deleted meanwhile left out."""
        out: list[tuple[int, Any]] = []
        for incident_id in incident_ids:
            try:
                _, got = await self.store.update(incident_id, claim)
            except IncidentNotFound:
                continue
            out.append((incident_id, got))
        return out

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
        lock = self.redis.lock(incident_lock_key(incident_id), timeout=self.config.lock_ttl_s,
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
                    incident = await self.analysis.run_analysis(incident, action)
                else:
                    incident = await self.notifications.send_notification(incident, action)
            return incident
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive
            try:
                await lock.release()
            except Exception:  # noqa: BLE001 - expired lock: nothing to release
                log.warning("incident %s: drain lock expired before release", incident_id)

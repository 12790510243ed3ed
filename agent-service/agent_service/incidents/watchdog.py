"""The dead man's switch: Alertmanager delivers the always-firing `Watchdog` alert every few
minutes (monitoring/alertmanager.yml, repeat_interval 5m). When it stops arriving, Prometheus,
Alertmanager or the route between them is broken and no other page would reach anyone: the agent
opens a critical incident itself (its `opened` email goes out through the notifier as usual).
When the Watchdog arrives again, that incident becomes MITIGATED.

A heartbeat never opens an incident of its own. Before the first heartbeat nothing is judged (a
stack without the Watchdog rule is not "broken")."""

from __future__ import annotations

import logging
from datetime import datetime

import redis.asyncio as aioredis

from agent_service.incidents.models import IncidentCreate, IncidentStatus, StatusChange
from agent_service.incidents.service import IncidentService
from agent_service.incidents.store import IncidentNotFound
from agent_service.incidents.webhook import WebhookPayload
from agent_service.keys import WATCHDOG_INCIDENT as INCIDENT
from agent_service.keys import WATCHDOG_LAST_SEEN as LAST_SEEN

log = logging.getLogger(__name__)
ACTOR = "system:watchdog"
KEY_TTL_S = 30 * 24 * 3600


def is_heartbeat(payload: WebhookPayload, alertname: str) -> bool:
    return bool(alertname) and all(a.labels.get("alertname") == alertname for a in payload.alerts)


class Watchdog:
    def __init__(self, redis: aioredis.Redis, *, service: IncidentService, alertname: str, timeout_s: float) -> None:
        self.redis = redis
        self.service = service
        self.alertname = alertname
        self.timeout_s = timeout_s

    @property
    def enabled(self) -> bool:
        return bool(self.alertname) and self.timeout_s > 0

    async def heard(self, now: datetime) -> None:
        await self.redis.set(LAST_SEEN, f"{now.timestamp():.3f}", ex=KEY_TTL_S)
        raw = await self.redis.getdel(INCIDENT)
        incident_id = int(raw) if raw else 0
        if incident_id <= 0:
            return
        try:
            await self.service.change_status(incident_id, StatusChange(
                status=IncidentStatus.MITIGATED, actor=ACTOR, note="the Watchdog alert arrives again"))
        except (ValueError, IncidentNotFound) as exc:  # a human moved or closed it meanwhile
            log.info("watchdog incident %s left as it is: %s", incident_id, exc)

    async def check(self, now: datetime) -> int | None:
        """Open the "alert pipeline broken" incident when the heartbeat is overdue (once)."""
        if not self.enabled:
            return None
        raw = await self.redis.get(LAST_SEEN)
        if raw is None:
            return None
        silent_s = now.timestamp() - float(raw)
        if silent_s <= self.timeout_s:
            return None
        if not await self.redis.set(INCIDENT, "0", nx=True, ex=KEY_TTL_S):
            return None
        minutes = silent_s / 60
        incident = await self.service.create(IncidentCreate(
            title="Alert pipeline broken: no Watchdog alert for " + f"{minutes:.0f} min",
            severity="critical",
            summary=(f"The always-firing {self.alertname} alert has not reached the agent for {minutes:.0f} minutes "
                     f"(expected at least every {self.timeout_s / 60:.0f} min). Prometheus, Alertmanager or the "
                     "route between them is down: other alerts would not page anyone either. Check that "
                     "Prometheus evaluates rules, that Alertmanager runs, and its webhook to /alerts."),
            actor=ACTOR,
        ))
        await self.redis.set(INCIDENT, incident.id, ex=KEY_TTL_S)
        log.warning("watchdog silent for %.0f s: incident %s opened", silent_s, incident.id)
        return incident.id

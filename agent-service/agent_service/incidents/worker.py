"""Background worker: turns queued Alertmanager deliveries into incident changes.

Reads the deliveries stream as a consumer group (XREADGROUP), acknowledges an entry (XACK, then
XDEL to keep the stream short) only after its effects are stored, and re-claims entries left
pending by a crashed or stopped worker (XAUTOCLAIM after `claim_idle_ms`). Re-processing is safe:
an incident records the entries already applied, and its pending actions (analysis,
notifications with deterministic idempotency keys) resume where they stopped. An entry that keeps
failing goes to the dead-letter stream after `max_attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from oncall_common.request_id import new_request_id, set_request_id
from agent_service.incidents.apply import NeedsNewIncident, apply_delivery, new_incident
from agent_service.incidents.escalation import EscalationPolicy
from agent_service.incidents.metrics import IncidentMetrics
from agent_service.incidents.service import IncidentService, now_utc
from agent_service.incidents.watchdog import Watchdog
from agent_service.incidents.webhook import WebhookPayload
from agent_service.keys import (
    DEAD_DELIVERIES,
    DELIVERIES,
    DELIVERY_ATTEMPTS,
    DELIVERY_GROUP,
    group_last_key,
    group_open_key,
    redirect_key,
)

log = logging.getLogger(__name__)
REDIRECT_TTL_S = 7 * 24 * 3600


class NotReady(Exception):
    """The entry depends on an earlier one not processed yet (e.g. its incident is not created)."""


@dataclass(frozen=True)
class WorkerConfig:
    claim_idle_ms: int = 60_000
    block_ms: int = 1_000
    batch: int = 16
    max_attempts: int = 5
    housekeeping_s: float = 15.0
    drains: int = 8  # incidents whose analysis/notifications run at once


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _s(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    return raw.decode() if isinstance(raw, bytes) else raw


class AlertWorker:
    def __init__(
        self,
        redis: aioredis.Redis,
        service: IncidentService,
        metrics: IncidentMetrics,
        *,
        config: WorkerConfig = WorkerConfig(),
        consumer: str | None = None,
        watchdog: Watchdog | None = None,
        escalation: EscalationPolicy | None = None,
    ) -> None:
        self.watchdog = watchdog
        self.escalation = escalation or EscalationPolicy()
        self.redis = redis
        self.service = service
        self.metrics = metrics
        self.config = config
        self.consumer = consumer or consumer_name()
        self._last_housekeeping = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._draining: set[int] = set()
        self._again: set[int] = set()
        self._slots = asyncio.Semaphore(config.drains)

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(DELIVERIES, DELIVERY_GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set (checked between rounds; a round blocks at most `block_ms`).
        Redis trouble is waited out with a bounded backoff."""
        backoff = 0.5
        while not stop.is_set():
            try:
                await self.ensure_group()
                await self.step()
                await self.housekeeping()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("alert worker: redis unavailable (%s); retrying in %.1fs", exc, backoff)
                await _sleep_unless(stop, backoff)
                backoff = min(backoff * 2, 10.0)
            except Exception:  # noqa: BLE001 - a bug must not stop intake processing for good
                log.exception("alert worker: unexpected error")
                await _sleep_unless(stop, backoff)
                backoff = min(backoff * 2, 10.0)

    async def step(self, *, block: bool = True) -> int:
        """One round: re-claim stale pending entries, else read new ones; process them."""
        claimed = await self.redis.xautoclaim(
            DELIVERIES, DELIVERY_GROUP, self.consumer, min_idle_time=self.config.claim_idle_ms, start_id="0-0",
            count=self.config.batch,
        )
        entries = list(claimed[1]) if claimed else []
        if not entries:
            read = await self.redis.xreadgroup(
                DELIVERY_GROUP, self.consumer, {DELIVERIES: ">"}, count=self.config.batch,
                block=self.config.block_ms if block else None,
            )
            for _stream, items in read or []:
                entries.extend(items)
        entries = [(eid, fields) for eid, fields in entries if fields]  # deleted meanwhile
        if entries:
            await self._process_batch(entries)
        await self.update_gauges()
        return len(entries)

    async def _process_batch(self, entries: list[tuple[bytes | str, dict]]) -> None:
        """Entries of the same incident in stream order; different incidents concurrently."""
        lanes: OrderedDict[str, list[tuple[str, dict]]] = OrderedDict()
        for eid, fields in entries:
            decoded = {_s(k): _s(v) for k, v in fields.items()}
            lanes.setdefault(decoded.get("incident_id") or _s(eid), []).append((_s(eid), decoded))

        async def lane(items: list[tuple[str, dict]]) -> None:
            for entry_id, fields in items:
                if not await self._handle(entry_id, fields):
                    break  # keep order: later entries of this incident wait for the retry

        await asyncio.gather(*(lane(items) for items in lanes.values()))

    async def _handle(self, entry_id: str, fields: dict[str, str]) -> bool:
        set_request_id(fields.get("request_id") or new_request_id())
        try:
            incident_id = await self.process(entry_id, fields)
        except Exception as exc:  # noqa: BLE001 - left pending, re-claimed later, bounded
            attempts = int(await self.redis.hincrby(DELIVERY_ATTEMPTS, entry_id, 1))
            if attempts >= self.config.max_attempts:
                log.error("alert delivery %s failed %d times, moved to %s: %s", entry_id, attempts, DEAD_DELIVERIES, exc)
                await self.redis.xadd(DEAD_DELIVERIES, {**fields, "error": str(exc)[:500], "entry": entry_id}, maxlen=10_000)
                await self._ack(entry_id)
            else:
                log.warning("alert delivery %s failed (attempt %d): %s", entry_id, attempts, exc)
            return False
        else:
            # The delivery's effects and the actions they call for are stored: acknowledge, then
            # carry the actions out in the background (a crash there is resumed by housekeeping).
            await self._ack(entry_id)
            if incident_id is not None:
                self.spawn_drain(incident_id)
            return True
        finally:
            set_request_id(None)

    def spawn_drain(self, incident_id: int) -> None:
        """Run the incident's pending actions (analysis, notifications) without holding up the
        stream: one task per incident, at most `config.drains` at once."""
        if incident_id in self._draining:
            self._again.add(incident_id)
            return
        self._draining.add(incident_id)
        task = asyncio.create_task(self._drain(incident_id), name=f"drain-incident-{incident_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, incident_id: int) -> None:
        try:
            while True:
                self._again.discard(incident_id)
                async with self._slots:
                    await self.service.drain(incident_id)
                if incident_id not in self._again:
                    return
        except Exception:  # noqa: BLE001 - the actions stay pending; housekeeping retries them
            log.exception("incident %s: carrying out pending actions failed", incident_id)
        finally:
            self._draining.discard(incident_id)

    async def idle(self) -> None:
        """Wait for the background drains (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop background drains; their actions stay pending and are resumed by the next worker."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _ack(self, entry_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(DELIVERIES, DELIVERY_GROUP, entry_id)
            pipe.xdel(DELIVERIES, entry_id)
            pipe.hdel(DELIVERY_ATTEMPTS, entry_id)
            await pipe.execute()

    async def process(self, entry_id: str, fields: dict[str, str]) -> int | None:
        """Apply one delivery (store its effects and the actions they call for); returns the
        incident id. The actions are carried out by `spawn_drain`."""
        payload = WebhookPayload.model_validate_json(fields["payload"])
        if not fields.get("incident_id"):
            return None
        incident_id = int(fields["incident_id"])
        store = self.service.store
        now = now_utc()
        previous = int(fields["previous"]) if fields.get("previous") else None
        if await store.get(incident_id) is None:
            if payload.status != "firing":
                raise NotReady(f"incident {incident_id} not created yet")
            created = new_incident(incident_id, payload, entry_id=entry_id, now=now, previous=previous)
            if await store.create(created):
                self.metrics.incident_created("alertmanager")
                return incident_id
        try:
            await store.update(incident_id, lambda inc: apply_delivery(inc, payload, entry_id=entry_id, now=now))
        except NeedsNewIncident:
            incident_id = await self._successor(incident_id, entry_id, payload, now)
        return incident_id

    async def _successor(self, resolved_id: int, entry_id: str, payload: WebhookPayload, now: datetime) -> int:
        """The group fired again just as its incident was RESOLVED: a new incident, exactly once."""
        redirect = redirect_key(entry_id)
        candidate = await self.service.store.next_id()
        if not await self.redis.set(redirect, candidate, nx=True, ex=REDIRECT_TTL_S):
            candidate = int(_s(await self.redis.get(redirect)))
        ghash = payload.group_hash()
        await self.redis.set(group_open_key(ghash), candidate)
        await self.redis.set(group_last_key(ghash), candidate)
        created = new_incident(candidate, payload, entry_id=entry_id, now=now, previous=resolved_id)
        if await self.service.store.create(created):
            self.metrics.incident_created("alertmanager")
        return candidate

    async def update_gauges(self) -> None:
        self.metrics.queue_depth.set(await self.redis.xlen(DELIVERIES))
        self.metrics.open.set(await self.service.store.open_count())

    async def housekeeping(self) -> None:
        # Notifications backing off after a notifier failure: resumed as soon as they are due
        # (one cheap ZRANGEBYSCORE per round), not only every `housekeeping_s`.
        for incident_id in await self.service.store.retries_due(now_utc().timestamp()):
            self.spawn_drain(incident_id)
        # Escalation steps due (critical, nobody acknowledged): claimed atomically, then paged.
        if self.escalation.enabled:
            for incident_id in await self.service.escalate_due(self.escalation, now_utc()):
                self.spawn_drain(incident_id)
        # Follow-up analyses due (incidents/followup.py): claimed atomically, then drained.
        if self.service.store.follow_up.enabled:
            for incident_id in await self.service.follow_up_due(now_utc()):
                self.spawn_drain(incident_id)
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_housekeeping < self.config.housekeeping_s:
            return
        self._last_housekeeping = loop.time()
        if self.watchdog is not None:
            await self.watchdog.check(now_utc())
        resolved = await self.service.auto_resolve(datetime.now(UTC))
        if resolved:
            log.info("incidents resolved after the quiet period: %s", resolved)
        # Actions left behind by a crash (this or another process, or an API call): resume.
        for incident_id in await self.service.store.with_pending():
            self.spawn_drain(incident_id)

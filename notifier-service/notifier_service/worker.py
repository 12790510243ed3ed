"""The delivery worker of one lane: claims due notifications from its Redis queue and sends them.

A lane is one channel (email over SMTP, Slack, Teams, Telegram, a webhook) with its own queue
(store.py under the channel's prefix) and its own `Sender` (delivery.py). One dispatcher claims as
many notifications as there are idle sender tasks (each sender owns one reusable connection); a
maintenance task hands back notifications whose claim lease ran out (their worker died) and keeps
the queue-depth gauge current. Chat and webhook lanes keep the same promise as email below, with
"DATA" read as "the HTTP request": sent, the receiver may have acted on it.

Delivery promise and its residual window. A notification is marked `sent` right after the SMTP
server answers 250 to DATA. Just before DATA the worker records `phase=data`. If the process
dies before that mark, the server cannot have accepted the message (it discards a transaction
whose data never ended) and the notification is queued again when its lease expires: nothing
is lost. If it dies after the mark but before `sent` is written — the time of one DATA round
trip plus one Redis write — nobody can know whether the server accepted it; such notifications
become `failed` with a reason saying so (listed as dead letters, re-sendable by hand), unless
RESEND_UNCERTAIN=true, which sends them again under the same Message-ID (receivers that dedupe
by Message-ID show it once). A live worker that loses the connection during DATA retries, as
every SMTP client does; that is the classic SMTP duplicate window (RFC 1047) and the same
Message-ID is again what lets receivers collapse it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.exceptions

from notifier_service.backoff import backoff_delay
from notifier_service.delivery import DeliveryError, Sender
from notifier_service.metrics import LaneMetrics
from notifier_service.settings import Settings
from notifier_service.store import NotificationStore, Stored

log = logging.getLogger(__name__)
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
TRIM_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Lane:
    name: str  # "email", "slack", … (the key of `channels` in GET /notifications/{id})
    store: NotificationStore
    new_sender: Callable[[], Sender]
    lease_seconds: float
    concurrency: int


class Worker:
    def __init__(self, *, lane: Lane, settings: Settings, metrics: LaneMetrics) -> None:
        self.lane = lane
        self.store = lane.store
        self.settings = settings
        self.metrics = metrics
        self.concurrency = lane.concurrency
        self._inbox: asyncio.Queue[tuple[str, Stored]] = asyncio.Queue()
        self._idle = asyncio.Semaphore(lane.concurrency)
        self._busy: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._senders: list[asyncio.Task[None]] = []
        self._stopping = False
        self._closed = False

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._dispatch(), name=f"notifier-{self.lane.name}-dispatch"),
            asyncio.create_task(self._maintain(), name=f"notifier-{self.lane.name}-maintenance"),
        ]
        self._senders = [
            asyncio.create_task(self._send_loop(i), name=f"notifier-{self.lane.name}-sender-{i}")
            for i in range(self.concurrency)
        ]

    async def stop(self) -> None:
        """Stop claiming, let in-flight sends finish (up to the grace period), hand back the rest.

        Loops also check flags: on Python 3.11 a cancellation that meets a timeout firing at the
        same moment can be turned into a TimeoutError, which a retrying loop would swallow.
        """
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        while (self._busy or not self._inbox.empty()) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        self._closed = True
        for task in self._senders:
            task.cancel()
        if self._senders:
            await asyncio.wait(self._senders, timeout=5)
        while not self._inbox.empty():
            token, item = self._inbox.get_nowait()
            await self._release(item, token)

    # -- dispatcher -------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while not self._stopping:
            try:
                free = await self._idle_senders()
                handed = 0
                try:
                    token, items = await self.store.claim(n=free, lease_seconds=self.lane.lease_seconds)
                    for item in items:
                        self._inbox.put_nowait((token, item))
                        handed += 1
                finally:  # a slot not handed to a sender is free again, whatever happened
                    for _ in range(free - handed):
                        self._idle.release()
                if not items:
                    await self._wait_for_work()
            except asyncio.CancelledError:
                raise
            except REDIS_ERRORS as exc:
                log.warning("redis unavailable for the %s queue: %s", self.lane.name, exc)
                await asyncio.sleep(self.settings.poll_interval_seconds)
            except Exception:
                log.exception("notification dispatcher error")
                await asyncio.sleep(self.settings.poll_interval_seconds)

    async def _idle_senders(self) -> int:
        """Wait for one idle sender, then take every other idle one too."""
        await self._idle.acquire()
        free = 1
        while not self._idle.locked() and free < self.concurrency:
            await self._idle.acquire()
            free += 1
        return free

    async def _wait_for_work(self) -> None:
        timeout = self.settings.poll_interval_seconds
        next_due = await self.store.next_due()
        if next_due is not None:
            timeout = min(timeout, max(next_due - time.time(), 0.0))
        await self.store.wait_for_work(timeout)

    # -- senders ----------------------------------------------------------------------------

    async def _send_loop(self, index: int) -> None:
        sender = self.lane.new_sender()
        try:
            while not self._closed:
                try:
                    token, item = await asyncio.wait_for(self._inbox.get(), timeout=self.settings.poll_interval_seconds)
                except TimeoutError:
                    await sender.idle()  # e.g. do not hold an SMTP connection open
                    continue
                self._busy.add(item.id)
                try:
                    await self._deliver(sender, item, token)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivering notification %s by %s", item.id, self.lane.name)
                finally:
                    self._busy.discard(item.id)
                    self._idle.release()
        finally:
            await asyncio.shield(sender.close())

    async def _deliver(self, sender: Sender, item: Stored, token: str) -> None:
        in_data = False

        async def before_send() -> None:
            nonlocal in_data
            await self.store.mark_data_phase(item.id)
            in_data = True

        try:
            note = await sender.deliver(item, before_send=before_send)
        except DeliveryError as exc:
            if exc.permanent:
                log.warning("notification %s cannot be delivered by %s: %s", item.id, self.lane.name, exc.reason)
            await self._after_failure(item, token, exc)
            return
        except asyncio.CancelledError:
            if not in_data:
                await asyncio.shield(self._release(item, token))
            raise
        await self._mark_sent(item, note)

    async def _mark_sent(self, item: Stored, note: str) -> None:
        """Written right after the server's 250; retried briefly, because sending again is worse."""
        sent_at = time.time()
        fields = {"sent_at": repr(sent_at), "last_error": note, "phase": ""}
        for attempt in range(5):
            try:
                await self.store.transition(item.id, "sent", fields=fields, expire=self.settings.retention_seconds)
                break
            except REDIS_ERRORS:
                if attempt == 4:
                    log.error(
                        "notification %s was accepted by %s but Redis could not record it; when its lease "
                        "runs out it is handled as uncertain (RESEND_UNCERTAIN)", item.id, self.lane.name,
                    )
                    return
                await asyncio.sleep(0.2 * 2**attempt)
        ready = float(item.fields.get("ready_at") or item.fields["created_at"])
        self.metrics.sent(item.fields["event"], max(sent_at - ready, 0.0))
        log.info("notification sent", extra={"notification_id": item.id, "incident_id": item.fields["incident_id"],
                                             "channel": self.lane.name})

    async def _after_failure(self, item: Stored, token: str, exc: DeliveryError) -> None:
        if exc.permanent or item.attempts >= self.settings.max_attempts:
            await self.store.transition(
                item.id, "failed", token=token, fields={"last_error": exc.reason[:1000], "phase": ""},
                expire=self.settings.retention_seconds,
            )
            self.metrics.failed()
            log.warning("notification %s failed by %s after %d attempt(s): %s", item.id, self.lane.name, item.attempts, exc.reason)
            return
        delay = backoff_delay(item.attempts, base=self.settings.backoff_base_seconds, cap=self.settings.backoff_max_seconds)
        if exc.retry_after is not None:  # the receiver's own pause (HTTP 429 Retry-After), within our cap
            delay = max(delay, min(exc.retry_after, self.settings.backoff_max_seconds))
        await self.store.transition(
            item.id, "queued", token=token, fields={"last_error": exc.reason[:1000]}, due=time.time() + delay
        )
        self.metrics.retried()
        log.info("notification %s retry by %s in %.1f s: %s", item.id, self.lane.name, delay, exc.reason)

    async def _release(self, item: Stored, token: str) -> None:
        """Hand a claimed notification back untried (shutdown before its DATA)."""
        with contextlib.suppress(*REDIS_ERRORS):
            await self.store.transition(
                item.id, "queued", token=token, required="sending",
                fields={"attempts": str(max(item.attempts - 1, 0))}, due=time.time(),
            )

    # -- maintenance ------------------------------------------------------------------------

    async def _maintain(self) -> None:
        last_trim = 0.0
        while not self._stopping:
            try:
                for ident, outcome in await self.store.recover(
                    resend_uncertain=self.settings.resend_uncertain, retention=self.settings.retention_seconds
                ):
                    log.warning("notification %s (%s): lease expired, %s", ident, self.lane.name, outcome)
                    if outcome == "failed":
                        self.metrics.failed()
                self.metrics.depth(await self.store.depth())
                if time.monotonic() - last_trim > TRIM_EVERY_SECONDS:
                    await self.store.trim_indexes(older_than=time.time() - self.settings.retention_seconds)
                    last_trim = time.monotonic()
            except asyncio.CancelledError:
                raise
            except REDIS_ERRORS as exc:
                log.warning("redis unavailable for %s maintenance: %s", self.lane.name, exc)
            except Exception:
                log.exception("notification maintenance error")
            await asyncio.sleep(self.settings.poll_interval_seconds)

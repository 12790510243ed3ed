"""The notifier's Prometheus metrics (names in docs/metrics.md), on the app's own registry.

The email lane keeps its original unlabelled series; every chat/webhook lane counts in the
`oncall_channel_*` series labelled by `channel`."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

DELIVERY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.queued = Counter(
            "oncall_notifications_queued_total", "Notifications accepted and queued", ["event"], registry=registry
        )
        self.sent = Counter(
            "oncall_notifications_sent_total", "Emails accepted by the SMTP server", ["event"], registry=registry
        )
        self.retried = Counter(
            "oncall_notifications_retried_total", "Delivery attempts scheduled again after a failure", registry=registry
        )
        self.failed = Counter(
            "oncall_notifications_failed_total", "Notifications given up (dead letters)", registry=registry
        )
        self.coalesced = Counter(
            "oncall_notifications_coalesced_total", "Updates merged into another update email", registry=registry
        )
        self.queue_depth = Gauge(
            "oncall_notification_queue_depth", "Notifications queued or being sent", registry=registry
        )
        self.delivery = Histogram(
            "oncall_notification_delivery_seconds",
            "Time from queued to accepted by the SMTP server",
            buckets=DELIVERY_BUCKETS,
            registry=registry,
        )
        self.channel_sent = Counter(
            "oncall_channel_messages_sent_total", "Chat/webhook messages accepted by the channel",
            ["channel", "event"], registry=registry,
        )
        self.channel_retried = Counter(
            "oncall_channel_messages_retried_total", "Chat/webhook deliveries scheduled again after a failure",
            ["channel"], registry=registry,
        )
        self.channel_failed = Counter(
            "oncall_channel_messages_failed_total", "Chat/webhook messages given up (dead letters)",
            ["channel"], registry=registry,
        )
        self.channel_depth = Gauge(
            "oncall_channel_queue_depth", "Chat/webhook messages queued or being sent", ["channel"], registry=registry
        )
        self.channel_delivery = Histogram(
            "oncall_channel_delivery_seconds", "Time from queued to accepted by the channel", ["channel"],
            buckets=DELIVERY_BUCKETS, registry=registry,
        )

    def lane(self, channel: str) -> LaneMetrics:
        return LaneMetrics(self, channel)


@dataclass(frozen=True)
class LaneMetrics:
    """The counters one lane's worker moves: the email series for "email", labelled ones otherwise."""

    metrics: Metrics
    channel: str

    def sent(self, event: str, seconds: float) -> None:
        m = self.metrics
        if self.channel == "email":
            m.sent.labels(event).inc()
            m.delivery.observe(seconds)
        else:
            m.channel_sent.labels(self.channel, event).inc()
            m.channel_delivery.labels(self.channel).observe(seconds)

    def retried(self) -> None:
        (self.metrics.retried if self.channel == "email" else self.metrics.channel_retried.labels(self.channel)).inc()

    def failed(self) -> None:
        (self.metrics.failed if self.channel == "email" else self.metrics.channel_failed.labels(self.channel)).inc()

    def depth(self, value: int) -> None:
        gauge = self.metrics.queue_depth if self.channel == "email" else self.metrics.channel_depth.labels(self.channel)
        gauge.set(value)

"""The notifier's Prometheus metrics (names in docs/metrics.md), on the app's own registry."""

from __future__ import annotations

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

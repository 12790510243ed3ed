"""Prometheus metrics of alert intake and incidents (names in docs/metrics.md), on the app's own
registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class IncidentMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.alerts_received = Counter(
            "oncall_alerts_received_total", "Alertmanager deliveries received",
            ["status", "outcome"], registry=registry,
        )
        self.queue_depth = Gauge(
            "oncall_alert_queue_depth", "Alert deliveries accepted but not processed yet", registry=registry
        )
        self.incidents = Counter("oncall_incidents_total", "Incidents opened", ["source"], registry=registry)
        self.open = Gauge("oncall_incidents_open", "Incidents not RESOLVED", registry=registry)
        self.notifications = Counter(
            "oncall_incident_notifications_total", "Notifier calls made for incidents",
            ["event", "outcome"], registry=registry,
        )

        self.escalations = Counter(
            "oncall_incident_escalations_total", "Escalation steps paged (critical incidents nobody acknowledged)",
            ["step"], registry=registry,
        )

    def escalation(self, step: int) -> None:
        self.escalations.labels(step=str(step)).inc()

    def received(self, status: str, outcome: str) -> None:
        self.alerts_received.labels(status=status, outcome=outcome).inc()

    def incident_created(self, source: str) -> None:
        self.incidents.labels(source=source).inc()

    def notification(self, event: str, ok: bool | None, *, retrying: bool = False) -> None:
        """ok True/False: the notifier accepted/refused (or was unreachable); None: not sent on purpose.
        `retrying`: a failed attempt kept pending to be tried again ("retrying"); a notification
        given up at last counts as "failed"."""
        outcome = "retrying" if retrying else "skipped" if ok is None else "ok" if ok else "failed"
        self.notifications.labels(event=event, outcome=outcome).inc()

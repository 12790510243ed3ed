"""Alertmanager annotations as change events (pure). An alert rule may template what changed into
an annotation (`deploy_version: {{ $labels.version }}`, `change: …`). That text comes from
whoever wrote the rule or labelled the series: it is recorded as data, never acted on. Kind
`annotation`, at the alert's startsAt — when the alert saw it, not when the change went out — so
the rules engine never ties a regression to it as "the change before the onset" (story wording:
agent_service/diagnosis/changes.py); the tools show it to the specialists as one more fact."""

from __future__ import annotations

import hashlib
import re

from pydantic import ValidationError

from agent_service.events.models import ChangeEvent
from agent_service.incidents.webhook import WebhookPayload

CHANGE_ANNOTATIONS = ("deploy_version", "change")
_VERSION = re.compile(r"^[A-Za-z0-9_.:/@+#-]{1,100}$")


def annotation_events(payload: WebhookPayload) -> list[ChangeEvent]:
    out: list[ChangeEvent] = []
    for alert in payload.alerts:
        if alert.status != "firing":
            continue
        for key in CHANGE_ANNOTATIONS:
            value = " ".join((alert.annotations.get(key) or "").split())
            if not value:
                continue
            digest = hashlib.sha256(f"{alert.fingerprint}|{key}|{value}".encode()).hexdigest()[:24]
            name = alert.labels.get("alertname", "alert")
            version = value if key == "deploy_version" and _VERSION.match(value) else None
            try:
                out.append(ChangeEvent(
                    id=f"alert-{digest}", kind="annotation", backend=alert.labels.get("backend"),
                    frontend=alert.labels.get("frontend"), service=None if alert.labels.get("backend") else name,
                    version=version, summary=f"alert {name} annotation {key}: {value}"[:500], at=alert.starts_at,
                ))
            except ValidationError:
                continue  # names outside HAProxy's alphabet: not worth an event
    return out

"""Alertmanager webhook payload, version 4 (unknown extra fields accepted and kept)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent_service.keys import group_hash

AlertStatus = Literal["firing", "resolved"]
ZERO_TIME_YEAR = 1  # Alertmanager sends endsAt 0001-01-01T00:00:00Z while an alert fires


class Alert(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    status: AlertStatus
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL", max_length=4000)
    fingerprint: str = Field(min_length=1, max_length=128)

    @property
    def ended(self) -> datetime | None:
        if self.ends_at is None or self.ends_at.year <= ZERO_TIME_YEAR:
            return None
        return self.ends_at


class WebhookPayload(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: Literal["4"]
    group_key: str = Field(alias="groupKey", min_length=1, max_length=4000)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    status: AlertStatus
    receiver: str = Field(default="", max_length=1000)
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL", max_length=4000)
    alerts: list[Alert] = Field(min_length=1, max_length=1000)

    def group_hash(self) -> str:
        return group_hash(self.group_key)

    def delivery_key(self) -> str:
        """Same group, status, truncation and alert (fingerprint, status, startsAt) → same key:
        Alertmanager's retries and repeat notifications of an unchanged group collapse into one."""
        parts = sorted(
            f"{a.fingerprint}|{a.status}|{a.starts_at.isoformat()}" for a in self.alerts
        )
        material = "\n".join([self.group_key, self.status, str(self.truncated_alerts), *parts])
        return hashlib.sha256(material.encode()).hexdigest()


class AlertsAccepted(BaseModel):
    incident_ids: list[int]
    duplicate: bool

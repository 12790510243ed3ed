"""Alertmanager webhook payload (version 4), read as leniently as a page deserves.

Alertmanager does not retry a 4xx, so a delivery that can be read as an alert is never refused:
- `fingerprint` missing (older or custom senders) → derived from the sorted label set exactly as
  Alertmanager does (FNV-1a 64 over name, 0xff, value, 0xff), so it matches later deliveries;
- Grafana's Alertmanager-compatible webhook (`version: "1"`, `orgId`, `values`, …) is read as is;
- `groupKey` missing → derived from the receiver and the group labels; `status` missing → firing
  when any alert fires; a negative `truncatedAlerts` → 0;
- `startsAt` missing, unreadable or outside a sane range (before 2000, more than a day ahead) →
  the receipt time, and the original is kept in `startsAtReplaced` for the timeline;
- every label and annotation value is cut at MAX_VALUE_CHARS with a marker (a delivery is bounded).
Only what cannot be an alert at all (not JSON, no alerts, an alert status that is neither firing
nor resolved) is a 422, with the reason. Unknown extra fields are accepted and kept.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from agent_service.keys import group_hash

AlertStatus = Literal["firing", "resolved"]
ZERO_TIME_YEAR = 1  # Alertmanager sends endsAt 0001-01-01T00:00:00Z while an alert fires
MAX_VALUE_CHARS = 4096
TRUNCATED = "… [truncated]"
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=1)
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = 0xFFFFFFFFFFFFFFFF


def label_fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (prometheus/common model.LabelSet.Fingerprint)."""
    value = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name.encode(), b"\xff", labels[name].encode(), b"\xff"):
            for byte in part:
                value = ((value ^ byte) * _FNV_PRIME) & _MASK
    return format(value, "016x")


def _bounded(values: Any) -> Any:
    if not isinstance(values, dict):
        return values
    out: dict[str, str] = {}
    for key, raw in values.items():
        text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
        name = str(key)[:MAX_VALUE_CHARS]
        out[name] = text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - len(TRUNCATED)] + TRUNCATED
    return out


# A label or annotation map as sent, each value cut at MAX_VALUE_CHARS.
BoundedValues = Annotated[dict[str, str], BeforeValidator(_bounded)]


def sane_time(value: datetime | None, *, now: datetime) -> datetime | None:
    """`value` when it is an aware time between 2000 and a day ahead of `now`, else None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value < EARLIEST or value > now + MAX_AHEAD:
        return None
    return value


def _parse_time(raw: Any) -> datetime | None:
    if isinstance(raw, datetime):
        return raw
    if not isinstance(raw, str) or not raw or len(raw) > 64:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


class Alert(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    status: AlertStatus
    labels: BoundedValues = Field(default_factory=dict)
    annotations: BoundedValues = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL", max_length=4000)
    fingerprint: str = Field(default="", max_length=128)
    # The startsAt as sent, when it could not be used and the receipt time stands in for it.
    starts_at_replaced: str | None = Field(default=None, alias="startsAtReplaced", max_length=100)

    @field_validator("generator_url", mode="before")
    @classmethod
    def _bound_url(cls, value: Any) -> Any:
        return value[:4000] if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _lenient_times(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        now = datetime.now(UTC)
        raw = data.get("startsAt", data.get("starts_at"))
        data.pop("starts_at", None)
        starts = sane_time(_parse_time(raw), now=now)
        if starts is None:
            data["startsAt"] = now
            data["startsAtReplaced"] = ("missing" if raw is None else str(raw))[:100]
        else:
            data["startsAt"] = starts
        ends_raw = data.get("endsAt", data.pop("ends_at", None))
        ends = _parse_time(ends_raw)
        data["endsAt"] = ends if ends is None or ends.year <= ZERO_TIME_YEAR else sane_time(ends, now=now)
        if "status" not in data:  # a sender that leaves it out: ended in the past → resolved
            ended = data["endsAt"]
            past = ended is not None and ended.year > ZERO_TIME_YEAR and ended <= now
            data["status"] = "resolved" if past else "firing"
        return data

    @model_validator(mode="after")
    def _fingerprint(self) -> Alert:
        if not self.fingerprint:
            self.fingerprint = label_fingerprint(self.labels)
        return self

    @property
    def ended(self) -> datetime | None:
        if self.ends_at is None or self.ends_at.year <= ZERO_TIME_YEAR:
            return None
        return self.ends_at

    def dedup_material(self) -> str:
        """Stable across Alertmanager's retries, even when startsAt was replaced on receipt."""
        starts = self.starts_at_replaced if self.starts_at_replaced is not None else self.starts_at.isoformat()
        return f"{self.fingerprint}|{self.status}|{starts}"


def _label_set(labels: dict[str, str]) -> str:
    return "{" + ",".join(f"{name}={labels[name]!r}" for name in sorted(labels)) + "}"


class WebhookPayload(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: str = Field(default="4", max_length=20)
    group_key: str = Field(default="", alias="groupKey", max_length=4000)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")
    status: AlertStatus | None = None
    receiver: str = Field(default="", max_length=1000)
    group_labels: BoundedValues = Field(default_factory=dict, alias="groupLabels")
    common_labels: BoundedValues = Field(default_factory=dict, alias="commonLabels")
    common_annotations: BoundedValues = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL", max_length=4000)
    alerts: list[Alert] = Field(min_length=1, max_length=1000)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value)[:20] if isinstance(value, (int, float)) else value

    @field_validator("receiver", "group_key", mode="before")
    @classmethod
    def _bound_text(cls, value: Any) -> Any:
        return value[:1000] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _derived(self) -> WebhookPayload:
        self.truncated_alerts = max(self.truncated_alerts, 0)
        if self.status is None:
            self.status = "firing" if any(a.status == "firing" for a in self.alerts) else "resolved"
        if not self.group_key:
            labels = self.group_labels or self.common_labels or self.alerts[0].labels
            self.group_key = f"{self.receiver}:{_label_set(labels)}"
        return self

    @property
    def delivery_status(self) -> AlertStatus:
        assert self.status is not None  # set by _derived
        return self.status

    def group_hash(self) -> str:
        return group_hash(self.group_key)

    def delivery_key(self) -> str:
        """Same group, status, truncation and alert (fingerprint, status, startsAt) → same key:
        Alertmanager's retries and repeat notifications of an unchanged group collapse into one.
        (A group that fires again after it resolved is told apart by the intake's group epoch.)"""
        parts = sorted(a.dedup_material() for a in self.alerts)
        material = "\n".join([self.group_key, self.delivery_status, str(self.truncated_alerts), *parts])
        return hashlib.sha256(material.encode()).hexdigest()


class AlertsAccepted(BaseModel):
    incident_ids: list[int]
    duplicate: bool

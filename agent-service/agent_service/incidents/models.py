"""Incidents: the stored record, its timeline, and the API's request/response models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent_service.models import IncidentReport
from agent_service.remediation.models import ProposalRecord

Source = Literal["alertmanager", "manual", "analyze"]
IncidentSeverity = Literal["info", "warning", "critical"]
NotifyEvent = Literal["opened", "updated", "mitigated", "resolved", "report"]
EventKind = Literal[
    "incident_opened",
    "alert_received",
    "alert_resolved",
    "analysis_started",
    "analysis_finished",
    "analysis_failed",
    "analysis_delayed",
    "status_changed",
    "note",
    "notification_sent",
    "notification_failed",
    "notification_retrying",
    "notification_skipped",
    "reopened",
    "acknowledged",
    "escalated",
    # remediation (agent_service/remediation/lifecycle.py)
    "proposals_made",
    "proposal_expired",
    "proposal_approved",
    "proposal_rejected",
    "proposal_executed",
    "proposal_failed",
    "proposal_undone",
    "proposal_undo_failed",
]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


class IncidentStatus(StrEnum):
    OPEN = "OPEN"
    INVESTIGATING = "INVESTIGATING"
    MITIGATED = "MITIGATED"
    RESOLVED = "RESOLVED"


class TimelineEvent(BaseModel):
    seq: int
    at: datetime
    actor: str
    kind: EventKind
    message: str
    data: dict[str, Any] = Field(default_factory=dict)


class AlertRecord(BaseModel):
    """One alert of the group as last seen. Labels and annotations are untrusted text: shown to
    people, never put in a model prompt."""

    fingerprint: str
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    ends_at: datetime | None = None
    generator_url: str = ""


class PendingAction(BaseModel):
    """Outbox entry: work decided inside a state change and carried out after it is stored, so a
    crash between the two resumes instead of redoing or forgetting (see incidents/worker.py)."""

    kind: Literal["analyze", "notify"]
    key: str
    event: NotifyEvent | None = None
    cause_seq: int = 0
    # A notification the notifier could not take yet (see incidents/notify_retry.py).
    failures: int = 0  # failed attempts in a row
    first_failed_at: datetime | None = None
    next_try_at: datetime | None = None
    last_error: str | None = None
    # An escalation page (incidents/escalation.py): its extra recipients and its step (1, 2, ...).
    to: str | None = None
    escalation_step: int | None = None


class Incident(BaseModel):
    id: int
    title: str
    severity: IncidentSeverity = "warning"
    status: IncidentStatus = IncidentStatus.OPEN
    source: Source = "manual"
    summary: str = ""
    group_key: str | None = None
    external_url: str = Field(default="", max_length=4000)  # the Alertmanager that sent the group
    labels: dict[str, str] = Field(default_factory=dict)
    scope: dict[str, str | None] = Field(default_factory=dict)
    alerts: list[AlertRecord] = Field(default_factory=list)
    reports: list[IncidentReport] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    detected_at: datetime | None = None  # earliest startsAt of the group's alerts
    impact_started_at: datetime | None = None  # first bad minute in the golden signals
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None  # who took it: the first to acknowledge keeps it (incidents/ack.py)
    escalation_step: int = 0  # escalation steps already paged (incidents/escalation.py)
    escalated_at: datetime | None = None  # when the last of them was
    followed_up_at: datetime | None = None  # when the follow-up analysis started (incidents/followup.py)
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    root_cause: str | None = None
    resolution: str | None = None
    action_items: list[str] = Field(default_factory=list)
    related_incident_id: int | None = None
    timeline: list[TimelineEvent] = Field(default_factory=list)
    applied_deliveries: list[str] = Field(default_factory=list)
    pending: list[PendingAction] = Field(default_factory=list)
    # Remediation proposals of its reports and their state (remediation/lifecycle.py).
    proposals: list[ProposalRecord] = Field(default_factory=list)

    def add_event(
        self, kind: EventKind, message: str, *, actor: str, at: datetime, data: dict[str, Any] | None = None
    ) -> TimelineEvent:
        seq = (self.timeline[-1].seq + 1) if self.timeline else 1
        event = TimelineEvent(seq=seq, at=at, actor=actor, kind=kind, message=message, data=data or {})
        self.timeline.append(event)
        self.updated_at = at
        return event


class IncidentSummary(BaseModel):
    id: int
    title: str
    severity: IncidentSeverity
    status: IncidentStatus
    source: Source
    created_at: datetime
    updated_at: datetime
    alerts: int
    root_cause: str | None = None
    acknowledged_by: str | None = None

    @classmethod
    def of(cls, incident: Incident) -> IncidentSummary:
        return cls(
            id=incident.id,
            title=incident.title,
            severity=incident.severity,
            status=incident.status,
            source=incident.source,
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            alerts=len(incident.alerts),
            root_cause=incident.root_cause,
            acknowledged_by=incident.acknowledged_by,
        )


class IncidentList(BaseModel):
    incidents: list[IncidentSummary]
    count: int
    next_cursor: int | None = None  # the `cursor` of the next page (filtered or not), None at the end


_ACTOR = Field(default="api", min_length=1, max_length=100, pattern=r"^[\w .@+\-:]+$")


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    severity: IncidentSeverity = "warning"
    summary: str = Field(default="", max_length=5000)
    backend: str | None = Field(default=None, max_length=200)
    frontend: str | None = Field(default=None, max_length=200)
    actor: str = _ACTOR
    report: IncidentReport | None = None  # an /analyze report: the incident's source is "analyze"
    analyze: bool = False  # run an analysis scoped by backend/frontend (last 15 minutes), in the background

    @model_validator(mode="after")
    def _one_analysis(self) -> IncidentCreate:
        if self.analyze and self.report is not None:
            raise ValueError("give either `report` (an analysis already made) or `analyze: true`, not both")
        return self


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: IncidentStatus
    actor: str = _ACTOR
    note: str | None = Field(default=None, max_length=5000)
    root_cause: str | None = Field(default=None, max_length=5000)
    resolution: str | None = Field(default=None, max_length=5000)


class AckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=100, pattern=r"^[\w .@+\-:]+$")


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    actor: str = _ACTOR
    kind: Literal["note", "action_item", "root_cause", "resolution"] = "note"


class Handoff(BaseModel):
    incident_id: int
    generated_by: Literal["rules", "llm"]
    status: IncidentStatus
    what_happened: str
    what_was_tried: list[str]
    current_state: str
    open_questions: list[str]
    markdown: str
    llm_error: str | None = None

"""Change events ("what changed?"): deploys, config changes, feature flags, recorded by POST /events,
the GitHub `deployment_status` webhook and (as kind `annotation`) Alertmanager annotations.

Everything in an event is untrusted text: bounded here, shown to a model only inside tool
results, escaped wherever a report renders it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent_service.models import sane_instant

EventKind = Literal["deploy", "config", "feature_flag", "rollback", "scale", "infra", "annotation", "other"]
_NAME = r"^[A-Za-z0-9_.:~/@+-]{1,200}$"  # HAProxy backend/frontend names, service names
_VERSION = r"^[A-Za-z0-9_.:/@+#-]{1,100}$"  # a tag, a sha, a release name: never free text
MAX_LIMIT = 500


def _no_control(text: str | None) -> str | None:
    if text is None:
        return None
    if any(ord(c) < 32 and c not in "\t" for c in text):
        raise ValueError("control characters are not allowed")
    return text


class ChangeEvent(BaseModel):
    """One change. `at` is when it took effect; one of backend, frontend or service says where."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.:@+-]{1,128}$")
    kind: EventKind
    backend: str | None = Field(default=None, pattern=_NAME)
    frontend: str | None = Field(default=None, pattern=_NAME)
    service: str | None = Field(default=None, pattern=_NAME)
    version: str | None = Field(default=None, pattern=_VERSION)
    summary: str = Field(default="", max_length=500)
    at: datetime
    by: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")

    @field_validator("at")
    @classmethod
    def _sane_at(cls, at: datetime) -> datetime:
        return sane_instant(at)

    @field_validator("summary", "by")
    @classmethod
    def _text(cls, text: str | None) -> str | None:
        return _no_control(text)

    @model_validator(mode="after")
    def _somewhere(self) -> ChangeEvent:
        if not (self.backend or self.frontend or self.service):
            raise ValueError("give backend, frontend or service: where the change happened")
        return self


class EventRecorded(BaseModel):
    event: ChangeEvent
    created: bool  # False: an event with this id was already stored (it is returned unchanged)


class EventList(BaseModel):
    events: list[ChangeEvent]  # newest first
    count: int


class GithubAccepted(BaseModel):
    status: Literal["recorded", "duplicate", "ignored", "pong"]
    event_id: str | None = None
    reason: str | None = None

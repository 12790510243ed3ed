"""The knowledge index' boundary types: what is asked (Match), what comes back (Hit), and a
resolved incident's post-mortem as it is indexed (IncidentDoc)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["runbook", "incident"]


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    query: str = Field(default="", max_length=500)
    alerts: list[str] = Field(default_factory=list, max_length=20)
    backend: str | None = Field(default=None, max_length=200)
    runbook_urls: list[str] = Field(default_factory=list, max_length=20)
    kinds: list[Kind] = Field(default_factory=list)
    limit: int = Field(default=5, ge=1, le=20)


class Hit(BaseModel):
    kind: Kind
    title: str
    file: str  # `runbooks/high-latency.md`, or `incident #12`
    heading: str
    excerpt: str
    score: float
    matched_by: list[str] = Field(default_factory=list)  # runbook_url, alert, text
    incident_id: int | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None


class IncidentDoc(BaseModel):
    incident_id: int
    title: str
    root_cause: str | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None
    alerts: list[str] = Field(default_factory=list)
    backends: list[str] = Field(default_factory=list)

"""The typed remediation proposals (a discriminated union on `type`) and their life on an incident.

A proposal says what to do, on which backend/server, the evidence it rests on, its risk and how
to undo it. `id` and `executable_here` are the copilot's to set (validate.py), whoever wrote the
rest. Names follow HAProxy's (the ingestion contract's) character set; free text is bounded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_NAME = r"^[A-Za-z0-9_.:~@+-]{1,200}$"
_VERSION = r"^[A-Za-z0-9_.:/@+#-]{1,100}$"
_ACTOR = r"^[\w .@+\-:]+$"

ProposalType = Literal["drain_server", "set_server_weight", "set_maxconn", "rollback", "scale_out",
                       "rate_limit", "escalate"]
RUNTIME_TYPES: frozenset[str] = frozenset({"drain_server", "set_server_weight", "set_maxconn"})
RiskLevel = Literal["low", "medium", "high"]


class Risk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: RiskLevel
    why: str = Field(default="", max_length=500)


class Undo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    how: str = Field(max_length=500)
    # Runtime actions: the inverse Runtime API command (the exact one, with the value read before
    # execution, is on the execution record).
    command: str | None = Field(default=None, max_length=300)


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(default="", max_length=40, description="set by the copilot")
    evidence: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=10, description="the facts (numbers, events) the proposal rests on")
    risk: Risk = Field(default_factory=lambda: Risk(level="medium"))
    undo: Undo = Field(default_factory=lambda: Undo(how="revert by hand"))
    executable_here: bool = Field(default=False, description="set by the copilot")

    @property
    def target(self) -> str:
        return ""


class _OnServer(_Base):
    backend: str = Field(pattern=_NAME)
    server: str = Field(pattern=_NAME)

    @property
    def target(self) -> str:
        return f"{self.backend}/{self.server}"


class DrainServer(_OnServer):
    type: Literal["drain_server"] = "drain_server"


class SetServerWeight(_OnServer):
    type: Literal["set_server_weight"] = "set_server_weight"
    weight: int = Field(ge=0, le=256)


class SetMaxconn(_OnServer):
    type: Literal["set_maxconn"] = "set_maxconn"
    maxconn: int = Field(ge=0, le=1_000_000)


class Rollback(_Base):
    type: Literal["rollback"] = "rollback"
    backend: str | None = Field(default=None, pattern=_NAME)
    service: str | None = Field(default=None, pattern=_NAME)
    from_version: str | None = Field(default=None, pattern=_VERSION, description="the version to roll back")
    to_version: str | None = Field(default=None, pattern=_VERSION, description="the version before it, when known")
    commit: str | None = Field(default=None, pattern=r"^[0-9a-f]{7,40}$", description="the deploy's commit, when known")
    change_id: str | None = Field(default=None, max_length=128, description="the change event it undoes")

    @property
    def target(self) -> str:
        return self.backend or self.service or ""


class ScaleOut(_Base):
    type: Literal["scale_out"] = "scale_out"
    backend: str = Field(pattern=_NAME)
    by: int = Field(default=1, ge=1, le=100, description="servers to add")

    @property
    def target(self) -> str:
        return self.backend


class RateLimit(_Base):
    type: Literal["rate_limit"] = "rate_limit"
    backend: str | None = Field(default=None, pattern=_NAME)
    path: str | None = Field(default=None, max_length=200, pattern=r"^/\S*$")
    client: str | None = Field(default=None, max_length=100, pattern=r"^[0-9A-Fa-f.:/]{2,100}$")

    @property
    def target(self) -> str:
        return self.path or self.client or ""


class Escalate(_Base):
    type: Literal["escalate"] = "escalate"
    to: str = Field(min_length=1, max_length=200)
    why: str = Field(min_length=1, max_length=500)
    backend: str | None = Field(default=None, pattern=_NAME)

    @property
    def target(self) -> str:
        return self.to


Proposal = Annotated[DrainServer | SetServerWeight | SetMaxconn | Rollback | ScaleOut | RateLimit | Escalate,
                     Field(discriminator="type")]
AnyProposal = DrainServer | SetServerWeight | SetMaxconn | Rollback | ScaleOut | RateLimit | Escalate


class ProposalInput(BaseModel):
    """The `propose_remediation` tool's input: one typed proposal."""

    model_config = ConfigDict(extra="forbid")

    proposal: Proposal


# --- on the incident ---------------------------------------------------------------------------
ProposalState = Literal["pending", "approved", "rejected", "expired", "executed", "dry_run", "failed", "undone"]


class RuntimeStep(BaseModel):
    """One Runtime API command on one HAProxy (socket): what was read before, sent, answered."""

    socket: str
    command: str
    previous: str | None = None  # the value read before the command (state, weight, maxconn)
    undo_command: str | None = None
    ok: bool = True
    answer: str = ""
    error: str | None = None


class Execution(BaseModel):
    at: datetime
    dry_run: bool
    ok: bool
    steps: list[RuntimeStep] = Field(default_factory=list)
    error: str | None = None


class ProposalRecord(BaseModel):
    """A proposal on an incident: its state, who decided, what was executed and undone. `id` is
    the incident's own (p1, p2, …): `/approve 12 p3`."""

    id: str
    report_id: str
    proposal: Proposal
    state: ProposalState = "pending"
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None  # why rejected or expired
    execution: Execution | None = None
    undo: Execution | None = None
    links: list[str] = Field(default_factory=list)  # a GitHub issue / draft PR (ports.ChangeFiler)


class ProposalDecision(BaseModel):
    """Body of approve / reject / undo: who (`by`, or `actor`) and, optionally, why."""

    model_config = ConfigDict(extra="forbid")

    by: str | None = Field(default=None, min_length=1, max_length=100, pattern=_ACTOR)
    actor: str | None = Field(default=None, min_length=1, max_length=100, pattern=_ACTOR)
    reason: str | None = Field(default=None, max_length=500)

    @property
    def who(self) -> str:
        return self.by or self.actor or "api"


class ProposalList(BaseModel):
    incident_id: int
    proposals: list[ProposalRecord]
    execute: bool  # REMEDIATION_EXECUTE: false = dry run


def summary(p: Any) -> str:
    """One line naming the action: `drain_server be_api/api3`."""
    extra = ""
    if isinstance(p, SetServerWeight):
        extra = f" weight {p.weight}"
    elif isinstance(p, SetMaxconn):
        extra = f" maxconn {p.maxconn}"
    elif isinstance(p, Rollback):
        extra = f" {p.from_version or '?'} → {p.to_version or 'the previous version'}"
    elif isinstance(p, ScaleOut):
        extra = f" +{p.by}"
    return f"{p.type} {p.target}{extra}".strip()

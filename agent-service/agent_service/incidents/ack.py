"""Acknowledging an incident: a person takes it (not a lifecycle state). Pure: the caller stores.

Decisions (docs/architecture.md, "Acknowledge, chat and escalation"):
- The first acknowledgement wins: `acknowledged_by` / `acknowledged_at` are set once and kept.
  The first human action of any kind (a status change, a note) also acknowledges.
- An explicit ack is always on the timeline: "acknowledged by alice", or, when someone else has
  it already, "bob acknowledged too (alice has it since 14:05:10 UTC)" — the owner stays alice.
- The same person acknowledging again changes nothing and adds nothing (a retried button click).
- A RESOLVED incident cannot be acknowledged (AckRefused → 409).
- An acknowledgement stops escalation (incidents/escalation.py) and sends no notification of its
  own; the next notification carries `acknowledged_by` / `acknowledged_at`.
"""

from __future__ import annotations

from datetime import datetime

from agent_service.incidents.models import Incident, IncidentStatus


class AckRefused(ValueError):
    pass


def record_ack(incident: Incident, *, by: str, at: datetime) -> bool:
    """Apply an ack by `by`; True when the timeline got an entry (False: a repeat by the owner)."""
    if incident.status == IncidentStatus.RESOLVED:
        raise AckRefused(f"incident {incident.id} is already RESOLVED")
    owner, since = incident.acknowledged_by, incident.acknowledged_at
    if owner == by:
        return False
    if since is None:
        incident.acknowledged_by, incident.acknowledged_at = by, at
        incident.add_event("acknowledged", f"acknowledged by {by}", actor=by, at=at, data={"by": by})
        return True
    who = owner or "someone"
    incident.add_event("acknowledged", f"{by} acknowledged too ({who} has it since {since:%H:%M:%S} UTC)",
                       actor=by, at=at, data={"by": by, "owner": owner})
    return True

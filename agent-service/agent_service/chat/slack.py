"""Slack interactivity (pure): the request signature, the block_actions payload, and the message
that replaces the original one through the payload's `response_url`.

Signature (Slack "Verifying requests from Slack"): `X-Slack-Signature` is `v0=` + hex
HMAC-SHA256(SLACK_SIGNING_SECRET, `v0:{X-Slack-Request-Timestamp}:{raw body}`); a timestamp more
than 5 minutes from now is a replay. Compared in constant time (hmac.compare_digest).
Buttons: action_id `ack` | `mitigated` | `resolved`, value = the incident id (the notifier's
Block Kit messages carry the same buttons); `proposal_approve` | `proposal_reject`, value =
`<incident id>:<proposal id>` (`12:p3`), on the messages this module writes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oncall_common.slack_proposals import APPROVE, REJECT, proposal_blocks

from agent_service.incidents.models import Incident, IncidentStatus
from agent_service.remediation.models import summary

MAX_SKEW_S = 300
MAX_BODY_BYTES = 64 * 1024


class SlackRejected(ValueError):
    """The request is not from Slack (bad or missing signature, replayed or stale timestamp)."""


class BadPayload(ValueError):
    pass


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, *, timestamp: str | None, sent: str | None, body: bytes, now: float) -> None:
    if not timestamp or not sent:
        raise SlackRejected("missing X-Slack-Signature or X-Slack-Request-Timestamp")
    try:
        at = int(timestamp)
    except ValueError:
        raise SlackRejected("X-Slack-Request-Timestamp is not a number") from None
    if abs(now - at) > MAX_SKEW_S:
        raise SlackRejected("X-Slack-Request-Timestamp is more than 5 minutes away (a replay?)")
    if not hmac.compare_digest(signature(secret, timestamp, body).encode(), sent.encode()):
        raise SlackRejected("X-Slack-Signature does not match")


class SlackUser(BaseModel):
    id: str = Field(default="", max_length=100)
    username: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)


class SlackAction(BaseModel):
    action_id: str = Field(max_length=255)
    value: str = Field(default="", max_length=2000)


class BlockActions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    user: SlackUser = SlackUser()
    actions: list[SlackAction] = Field(default_factory=list, max_length=20)
    response_url: str = Field(default="", max_length=2000)


def parse_payload(body: bytes) -> BlockActions:
    """Slack's `application/x-www-form-urlencoded` body with one `payload=` JSON field."""
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=False)
        raw = fields["payload"][0]
        return BlockActions.model_validate(json.loads(raw))
    except (UnicodeDecodeError, KeyError, IndexError, ValueError, ValidationError) as exc:
        raise BadPayload(f"not a Slack interaction payload: {type(exc).__name__}") from None


def incident_id_of(action: SlackAction) -> int:
    value = action.value.strip()
    if not value.isdigit() or len(value) > 12:
        raise BadPayload(f"button value {value[:40]!r} is not an incident id")
    return int(value)


PROPOSAL_BUTTONS = {APPROVE: "approve", REJECT: "reject"}


def proposal_decision(action_id: str) -> str | None:
    """`approve` | `reject` for `proposal_approve[:pid]` | `proposal_reject[:pid]` (the pid suffix
    keeps each button's action_id unique within a message, as Block Kit wants), else None."""
    return PROPOSAL_BUTTONS.get(action_id.split(":", 1)[0])
MAX_PROPOSAL_BUTTONS = 3  # pending proposals offered per message


def proposal_ref_of(action: SlackAction) -> tuple[int, str]:
    """`12:p3` → (12, "p3")."""
    incident, _, pid = action.value.strip().partition(":")
    if not incident.isdigit() or len(incident) > 12 or not re.fullmatch(r"p\d{1,6}", pid):
        raise BadPayload(f"button value {action.value[:40]!r} is not an incident:proposal reference")
    return int(incident), pid


def mrkdwn(text: str, limit: int = 300) -> str:
    """Outside text in Slack mrkdwn: the three control characters escaped, one bounded line."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _button(action_id: str, label: str, incident_id: int, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": str(incident_id),
                              "text": {"type": "plain_text", "text": label}}
    if style:
        button["style"] = style
    return button


def updated_message(incident: Incident | None, outcome: str, *, url: str = "") -> dict[str, Any]:
    """The JSON posted to `response_url`: replaces the original message with the incident's state,
    what was just done, and the buttons that still make sense."""
    if incident is None:
        return {"replace_original": False, "response_type": "ephemeral", "text": mrkdwn(outcome)}
    owner = f"acknowledged by {mrkdwn(incident.acknowledged_by, 100)}" if incident.acknowledged_by else "not acknowledged"
    link = f"<{url}|#{incident.id}>" if url else f"#{incident.id}"
    head = f"{link} *{mrkdwn(incident.title, 200)}*\n{incident.severity} · {incident.status.value} · {owner}"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": head}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn(outcome)}]},
    ]
    buttons = []
    if incident.status != IncidentStatus.RESOLVED:
        if incident.acknowledged_at is None:
            buttons.append(_button("ack", "Acknowledge", incident.id, "primary"))
        if incident.status != IncidentStatus.MITIGATED:
            buttons.append(_button("mitigated", "Mitigated", incident.id))
        buttons.append(_button("resolved", "Resolved", incident.id, "danger"))
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    if incident.status != IncidentStatus.RESOLVED:
        blocks += _proposal_blocks(incident)
    text = f"#{incident.id} {mrkdwn(incident.title, 200)}: {incident.status.value}, {owner}"
    return {"replace_original": True, "text": text, "blocks": blocks}


def _proposal_blocks(incident: Incident) -> list[dict[str, Any]]:
    """Each pending proposal (at most MAX_PROPOSAL_BUTTONS): what it does, Approve and Reject."""
    pending = [r for r in incident.proposals if r.state == "pending"][:MAX_PROPOSAL_BUTTONS]
    return proposal_blocks(incident.id, ((r.id, mrkdwn(summary(r.proposal), 200), r.proposal.risk.level)
                                         for r in pending))

"""Slack Block Kit for pending remediation proposals, shared by the notifier (the page) and the
agent (the message it rewrites after a button): one contract for what agent-service's
`POST /integrations/slack/actions` reads back — action_id `proposal_approve:PID` |
`proposal_reject:PID` (the suffix keeps action ids unique within a message), value `INCIDENT:PID`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

APPROVE, REJECT = "proposal_approve", "proposal_reject"


def proposal_blocks(incident_id: int | str, proposals: Iterable[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """A section and an actions block per (pid, summary, risk); `summary` already escaped for mrkdwn."""
    out: list[dict[str, Any]] = []
    for pid, summary, risk in proposals:
        value = f"{incident_id}:{pid}"
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": (
            f"*Proposed {pid}* {summary}" + (f" · risk {risk}" if risk else ""))}})
        out.append({"type": "actions", "block_id": f"proposal-{incident_id}-{pid}", "elements": [
            {"type": "button", "action_id": f"{APPROVE}:{pid}", "value": value, "style": "primary",
             "text": {"type": "plain_text", "text": f"Approve {pid}"}},
            {"type": "button", "action_id": f"{REJECT}:{pid}", "value": value,
             "text": {"type": "plain_text", "text": f"Reject {pid}"}}]})
    return out

"""GitHub webhook bodies in the shape GitHub sends (octokit/webhooks
payload-examples/api.github.com/deployment_status/payload.json, trimmed: the fields around the
ones we read are kept so a renamed field shows), signed as GitHub signs them."""

from __future__ import annotations

import json
from typing import Any

from agent_service.events.github import signature


def deployment_status(*, deployment_id: int = 145988746, state: str = "success", ref: str = "v2.3.1",
                      sha: str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", environment: str = "be_search",
                      payload: Any = None, login: str = "alice", target_url: str = "https://ci.example/runs/7",
                      created_at: str = "2026-01-01T13:59:00Z") -> dict[str, Any]:
    creator = {"login": login, "id": 21031067, "node_id": "MDQ6VXNlcjIxMDMxMDY3", "type": "User", "site_admin": False,
               "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}"}
    deployment_url = f"https://api.github.com/repos/acme/search/deployments/{deployment_id}"
    return {
        "action": "created",
        "deployment_status": {
            "url": f"{deployment_url}/statuses/209916254", "id": 209916254, "node_id": "MDE2OkRlcGxveW1lbnRTdGF0dXM=",
            "state": state, "creator": creator, "description": "", "environment": environment,
            "target_url": target_url, "created_at": created_at, "updated_at": created_at,
            "deployment_url": deployment_url, "repository_url": "https://api.github.com/repos/acme/search",
        },
        "deployment": {
            "url": deployment_url, "id": deployment_id, "node_id": "MDEwOkRlcGxveW1lbnQxNDU5ODg3NDY=",
            "sha": sha, "ref": ref, "task": "deploy", "payload": {} if payload is None else payload,
            "original_environment": environment, "environment": environment, "description": None,
            "creator": creator, "created_at": created_at, "updated_at": created_at,
            "statuses_url": f"{deployment_url}/statuses", "repository_url": "https://api.github.com/repos/acme/search",
            "performed_via_github_app": None,
        },
        "repository": {"id": 186853002, "name": "search", "full_name": "acme/search", "private": True,
                       "owner": {"login": "acme", "id": 1, "type": "Organization"}},
        "sender": creator,
    }


def ping() -> dict[str, Any]:
    return {"zen": "Keep it logically awesome.", "hook_id": 1, "hook": {"type": "Repository", "events": ["deployment_status"]}}


def signed(secret: str, body: dict[str, Any], event: str) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"X-Hub-Signature-256": signature(secret, raw), "X-GitHub-Event": event,
                 "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "Content-Type": "application/json"}

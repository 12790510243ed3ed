"""Names the filer gives and checks (pure): kinds, branches, labels; branch, path and sha validation.

A kind names one filing of an incident — `issue`, `revert-<sha7>`, `config-<digest8>` — and keys
both the record and the body's marker; the branch of a pull request derives from it, so a retry
finds the branch (and its pull request) an earlier attempt made.
"""

from __future__ import annotations

import hashlib
import re

from agent_service.remediation.github.errors import GitHubRejected

_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")
_TYPE_LABELS = {"issue": "report", "revert": "rollback", "config": "config"}

ISSUE = "issue"


def revert_names(incident_id: int, sha: str) -> tuple[str, str]:
    return f"revert-{sha[:7]}", f"oncall/incident-{incident_id}-revert-{sha[:7]}"


def config_names(incident_id: int, path: str, content: str) -> tuple[str, str]:
    digest = hashlib.sha256(f"{path}\0{content}".encode()).hexdigest()[:8]
    return f"config-{digest}", f"oncall/incident-{incident_id}-config-{digest}"


def type_label(kind: str) -> str:
    """The label naming what was filed: `report` (the issue), `rollback`, `config`."""
    return _TYPE_LABELS[kind.split("-", 1)[0]]


def check_sha(value: str) -> str:
    sha = value.strip().lower()
    if not _SHA.match(sha):
        raise GitHubRejected(f"not a commit sha: {value[:50]!r}")
    return sha


def check_branch(name: str) -> None:
    if not _BRANCH.match(name) or ".." in name or name.startswith("/") or name.endswith((".lock", "/")):
        raise GitHubRejected(f"not a branch name: {name[:50]!r}")


def check_path(path: str) -> None:
    """A repository file path: no empty, `.` or `..` segment (a URL must not climb out of /contents/)."""
    parts = path.split("/")
    if not path or len(path) > 1000 or any(p in {"", ".", ".."} for p in parts) or \
            any(ord(ch) < 32 or ch in "?#\\" for ch in path):
        raise GitHubRejected(f"not a repository file path: {path[:50]!r}")

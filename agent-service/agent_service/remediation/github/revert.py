"""The revert of one commit as Git Data API tree entries (pure), or the reason a human must do it.

Reverting commit C (parent P) on a base B that moved on since C is safe to do mechanically only
when none of C's files changed after C: then B's version of each equals C's, and putting P's
version back undoes exactly C. When any of them differs (edited again, already reverted, renamed
away) we do not guess at a merge: RevertNeedsHuman names the files.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from agent_service.remediation.github.errors import RevertNeedsHuman

MAX_FILES = 300  # GitHub's commit endpoint lists at most 300 files per page: beyond that, a human


class TreeEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    path: str
    mode: str
    type: str
    sha: str


class ChangedFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    filename: str
    status: str  # added, removed, modified, renamed, copied, changed, unchanged
    previous_filename: str | None = None


Tree = dict[str, TreeEntry]


def tree_of(listing: dict[str, Any]) -> Tree:
    """The blobs (and submodules) of a recursive `GET /git/trees/{sha}?recursive=1` answer."""
    if listing.get("truncated"):
        raise RevertNeedsHuman("the repository tree is too large for the API to list in one answer")
    entries = (TreeEntry.model_validate(item) for item in listing.get("tree", []))
    return {entry.path: entry for entry in entries if entry.type != "tree"}


def touched(files: list[ChangedFile]) -> list[str]:
    paths: list[str] = []
    for changed in files:
        for path in (changed.previous_filename, changed.filename):
            if path and path not in paths:
                paths.append(path)
    return paths


def revert_entries(*, files: list[ChangedFile], parent: Tree, commit: Tree, base: Tree) -> list[dict[str, Any]]:
    """Entries for `POST /git/trees` (with `base_tree` = B's tree) that undo the commit on B."""
    if not files:
        raise RevertNeedsHuman("the commit changes no file")
    if len(files) >= MAX_FILES:
        raise RevertNeedsHuman(f"the commit changes {len(files)} files or more")
    paths = touched(files)
    moved = [path for path in paths if base.get(path) != commit.get(path)]
    if moved:
        shown = ", ".join(moved[:10]) + (" …" if len(moved) > 10 else "")
        raise RevertNeedsHuman(f"changed again after the commit: {shown}")
    entries: list[dict[str, Any]] = []
    for path in paths:
        before = parent.get(path)
        if before is not None:
            entries.append({"path": path, "mode": before.mode, "type": before.type, "sha": before.sha})
        elif path in commit:
            now = commit[path]
            entries.append({"path": path, "mode": now.mode, "type": now.type, "sha": None})
    return entries

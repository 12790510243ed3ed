"""File an incident on GitHub: an issue with the report, a draft pull request reverting a deploy's
commit, a draft pull request patching one configuration file. Plain values in, `Filed` out.

Every call is idempotent per incident and kind: the record (Redis) is read first, then GitHub
itself (the marker in open and closed issues, the pull request of the deterministic branch
`oncall/incident-N-revert-<sha7>` / `oncall/incident-N-config-<digest>`), so a retried call
returns what the first one filed instead of filing it twice. Everything is a draft and labelled
`oncall-copilot`, `incident` and its type.

The revert is one commit built with the Git Data API (atomic: the branch appears with the whole
revert or not at all), on top of the base branch's head — see docs/remediation-github.md.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agent_service.remediation.github import bodies
from agent_service.remediation.github.client import GitHubClient, path_part
from agent_service.remediation.github.errors import (
    GitHubBusy,
    GitHubError,
    GitHubNotFound,
    GitHubRejected,
    GitHubUnavailable,
    NothingToChange,
    RevertNeedsHuman,
)
from agent_service.remediation.github.haproxy_config import ServerChange, edit_server
from agent_service.remediation.github.names import (
    ISSUE,
    check_branch,
    check_path,
    check_sha,
    config_names,
    revert_names,
    type_label,
)
from agent_service.remediation.github.record import FiledRecord, MemoryFiledRecord
from agent_service.remediation.github.revert import ChangedFile, revert_entries, tree_of

_ISSUE_PAGES = 5


class Filed(BaseModel):
    """What was filed (or found filed before): the URL to link in the timeline."""

    model_config = ConfigDict(frozen=True)

    url: str
    number: int
    kind: Literal["issue", "pull_request"]
    created: bool = True  # False: an earlier call had filed it
    note: str = ""  # why a pull request became an issue only, when it did


class GitHubFiler:
    def __init__(self, client: GitHubClient, *, policy: bodies.LinkPolicy, record: FiledRecord | None = None) -> None:
        self._gh = client
        self._policy = policy
        self._record = record or MemoryFiledRecord()
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}

    @asynccontextmanager
    async def _exclusive(self, incident_id: int, kind: str) -> AsyncIterator[None]:
        """One filing per incident and kind at a time: in this process (a lock: the second caller
        then finds the record) and across workers (the record's claim: GitHubBusy, retry later)."""
        async with self._locks.setdefault((incident_id, kind), asyncio.Lock()):
            token = await self._record.claim(incident_id, kind)
            if token is None:
                raise GitHubBusy(f"incident {incident_id} {kind}: another worker is filing it")
            try:
                yield
            finally:
                await self._record.release(incident_id, kind, token)

    # --- issues ---------------------------------------------------------------------------------

    async def file_issue(self, incident_id: int, title: str, body_markdown: str,
                         labels: Sequence[str] = ()) -> Filed:
        async with self._exclusive(incident_id, ISSUE):
            return await self._issue(incident_id, ISSUE, title, body_markdown, labels, note="")

    async def _issue(self, incident_id: int, kind: str, title: str, markdown: str,
                     labels: Sequence[str], *, note: str) -> Filed:
        wanted = bodies.labels_for(type_label(kind), list(labels))
        known = await self._known(incident_id, kind) or await self._marked(incident_id, kind, wanted)
        if known:
            return await self._remember(incident_id, kind, known)
        payload = {"title": bodies.safe_title(title), "labels": wanted,
                   "body": bodies.body(incident_id=incident_id, kind=kind, markdown=markdown, policy=self._policy, note=note)}
        try:
            issue = await self._gh.repo_call("POST", "/issues", json=payload)
        except GitHubUnavailable:
            # GitHub may have created it before failing: look, and create only if it did not.
            found = await self._marked(incident_id, kind, wanted)
            if found:
                return await self._remember(incident_id, kind, found)
            issue = await self._gh.repo_call("POST", "/issues", json=payload)
        await self._ensure_labels(issue, wanted)
        return await self._remember(incident_id, kind, Filed(url=issue["html_url"], number=issue["number"],
                                                             kind="issue", note=note))

    async def _marked(self, incident_id: int, kind: str, labels: list[str]) -> Filed | None:
        """An issue or pull request of ours whose body opens with the marker (newest first), labelled."""
        mark = bodies.marker(incident_id, kind)
        for page in range(1, _ISSUE_PAGES + 1):
            items = await self._gh.repo_call("GET", "/issues", params={
                "state": "all", "labels": bodies.BASE_LABELS[0], "sort": "created", "direction": "desc",
                "per_page": 100, "page": page})
            for item in items:
                if (item.get("body") or "").startswith(mark):  # only ours: report text cannot open a body
                    is_pull = "pull_request" in item
                    await self._ensure_labels(item, labels)
                    return Filed(url=item["html_url"], number=item["number"], created=False,
                                 kind="pull_request" if is_pull else "issue")
            if len(items) < 100:
                return None
        return None

    async def _ensure_labels(self, item: dict[str, Any], labels: list[str]) -> None:
        # GitHub drops labels given at creation when the token cannot push; add them explicitly then.
        have = {str(label.get("name", "")).lower() for label in item.get("labels", []) if isinstance(label, dict)}
        if any(label.lower() not in have for label in labels):
            await self._gh.repo_call("POST", f"/issues/{item['number']}/labels", json={"labels": labels},
                                     idempotent=True)

    async def _known(self, incident_id: int, kind: str) -> Filed | None:
        raw = await self._record.get(incident_id, kind)
        if raw:
            return Filed.model_validate_json(raw).model_copy(update={"created": False})
        return None

    async def _remember(self, incident_id: int, kind: str, filed: Filed) -> Filed:
        await self._record.put(incident_id, kind, filed.model_dump_json())
        return filed

    # --- pull requests --------------------------------------------------------------------------

    async def open_revert_pr(self, incident_id: int, title: str, body: str, commit_sha: str,
                             base: str = "main", labels: Sequence[str] = ()) -> Filed:
        sha = check_sha(commit_sha)
        check_branch(base)
        kind, branch = revert_names(incident_id, sha)
        async with self._exclusive(incident_id, kind):
            return await self._revert_pr(incident_id, kind, branch, title, body, sha, base, labels)

    async def _revert_pr(self, incident_id: int, kind: str, branch: str, title: str, body: str, sha: str,
                         base: str, labels: Sequence[str]) -> Filed:
        known = await self._known(incident_id, kind) or await self._pull_of(branch, kind, labels)
        if known:
            return await self._remember(incident_id, kind, known)
        commit = await self._gh.repo_call("GET", f"/commits/{sha}")
        try:
            if await self._branch_head(branch) is None:  # else left by an earlier attempt: reused
                await self._create_branch(branch, await self._revert_commit(commit, base, incident_id))
        except RevertNeedsHuman as why:
            note = (f"**The revert of {commit['sha'][:7]} needs a human**: {bodies.safe_markdown(why.reason, self._policy)}. "
                    "No pull request was opened.")
            return await self._issue(incident_id, kind, title, body, labels, note=note)
        note = (f"Draft revert of {commit['sha'][:7]} onto `{base}`, proposed by oncall-copilot. "
                "Review it before merging.")
        return await self._pull(incident_id, kind, branch, base, title, body, labels, note=note)

    async def open_config_pr(self, incident_id: int, title: str, body: str, path: str, new_content: str,
                             base: str = "main", labels: Sequence[str] = (),
                             based_on: str | None = None) -> Filed:
        """A draft PR setting `path` to `new_content`. With `based_on` (the text the change was
        computed from), a base whose file differs by now gets an issue saying a human must look."""
        check_branch(base)
        check_path(path)
        kind, branch = config_names(incident_id, path, new_content)
        async with self._exclusive(incident_id, kind):
            return await self._config_pr(incident_id, kind, branch, title, body, path, new_content, base,
                                         labels, based_on)

    async def _config_pr(self, incident_id: int, kind: str, branch: str, title: str, body: str, path: str,
                         new_content: str, base: str, labels: Sequence[str], based_on: str | None) -> Filed:
        known = await self._known(incident_id, kind) or await self._pull_of(branch, kind, labels)
        if known:
            return await self._remember(incident_id, kind, known)
        base_sha = await self._branch_head(base)
        if base_sha is None:
            raise GitHubNotFound(f"base branch {base} not found")
        current, blob = await self.read_text(path, base_sha)
        if based_on is not None and current != based_on:
            note = f"**{bodies.safe_markdown(path, self._policy)} changed on `{base}` since this change was proposed**: a human must apply it. No pull request was opened."
            return await self._issue(incident_id, kind, title, body, labels, note=note)
        if current == new_content:
            raise NothingToChange(f"{path} on {base} already has the proposed content")
        on_branch = current  # a new branch starts at base_sha: no read of it just after creating it
        if await self._branch_head(branch) is None:
            await self._create_branch(branch, base_sha)
        else:  # left by an earlier attempt, which may have written the file already
            on_branch, blob = await self.read_text(path, branch)
        if on_branch != new_content:
            await self._gh.repo_call("PUT", f"/contents/{path_part(path)}", json={
                "message": f"oncall-copilot: {bodies.safe_title(title)}\n\nProposed for incident {incident_id}.",
                "content": base64.b64encode(new_content.encode()).decode(), "sha": blob, "branch": branch})
        note = f"Draft change of `{path}` onto `{base}`, proposed by oncall-copilot. Review it before merging."
        return await self._pull(incident_id, kind, branch, base, title, body, labels, note=note)

    async def open_haproxy_pr(self, incident_id: int, title: str, body: str, *, path: str, backend: str,
                              server: str, change: ServerChange, base: str = "main",
                              labels: Sequence[str] = ()) -> Filed:
        """open_config_pr for one `server` line of the HAProxy config at `path` (GITHUB_HAPROXY_CONFIG_PATH);
        ServerLineNotFound when the line is not there exactly once."""
        check_branch(base)
        current, _ = await self.read_text(path, base)
        proposed = edit_server(current, backend=backend, server=server, change=change)
        return await self.open_config_pr(incident_id, title, body, path, proposed, base=base, labels=labels,
                                         based_on=current)

    async def read_text(self, path: str, ref: str) -> tuple[str, str]:
        """The text of `path` at `ref` and its blob sha (to compute a change, or to replace it)."""
        check_path(path)
        item = await self._gh.repo_call("GET", f"/contents/{path_part(path)}", params={"ref": ref})
        if not isinstance(item, dict) or item.get("type") != "file" or item.get("encoding") != "base64":
            raise GitHubRejected(f"{path} at {ref} is not a file the API returns inline")
        return base64.b64decode(item["content"]).decode(), item["sha"]

    async def _pull(self, incident_id: int, kind: str, branch: str, base: str, title: str, body: str,
                    labels: Sequence[str], *, note: str) -> Filed:
        payload = {"title": bodies.safe_title(title), "head": branch, "base": base, "draft": True,
                   "body": bodies.body(incident_id=incident_id, kind=kind, markdown=body, policy=self._policy, note=note)}
        try:
            pull = await self._gh.repo_call("POST", "/pulls", json=payload)
        except (GitHubUnavailable, GitHubRejected):
            # 5xx after GitHub acted, or 422 "A pull request already exists": the branch's PR is ours.
            found = await self._pull_of(branch, kind, labels)
            if not found:
                raise
            return await self._remember(incident_id, kind, found)
        await self._ensure_labels(pull, bodies.labels_for(type_label(kind), list(labels)))
        filed = Filed(url=pull["html_url"], number=pull["number"], kind="pull_request")
        return await self._remember(incident_id, kind, filed)

    async def _pull_of(self, branch: str, kind: str, labels: Sequence[str]) -> Filed | None:
        """The pull request of `branch` (open or closed) when there is one, labelled as it should be:
        an earlier attempt may have stopped between opening it and labelling it."""
        pulls = await self._gh.repo_call("GET", "/pulls", params={
            "head": f"{self._gh.config.owner}:{branch}", "state": "all", "per_page": 10})
        if not pulls:
            return None
        await self._ensure_labels(pulls[0], bodies.labels_for(type_label(kind), list(labels)))
        return Filed(url=pulls[0]["html_url"], number=pulls[0]["number"], kind="pull_request", created=False)

    async def _branch_head(self, branch: str) -> str | None:
        try:
            ref = await self._gh.repo_call("GET", f"/git/ref/heads/{path_part(branch)}")
        except GitHubNotFound:
            return None
        return str(ref["object"]["sha"])

    async def _create_branch(self, branch: str, sha: str) -> None:
        try:
            await self._gh.repo_call("POST", "/git/refs", json={"ref": f"refs/heads/{branch}", "sha": sha},
                                     idempotent=True)
        except GitHubRejected:
            if await self._branch_head(branch) is None:  # 422 for another reason than "already exists"
                raise

    async def _revert_commit(self, commit: dict[str, Any], base: str, incident_id: int) -> str:
        parents = commit.get("parents") or []
        if len(parents) != 1:
            raise RevertNeedsHuman(f"the commit has {len(parents)} parents (a merge or a root commit)")
        base_sha = await self._branch_head(base)
        if base_sha is None:
            raise GitHubNotFound(f"base branch {base} not found")
        base_tree = (await self._gh.repo_call("GET", f"/git/commits/{base_sha}"))["tree"]["sha"]
        parent_tree = (await self._gh.repo_call("GET", f"/git/commits/{parents[0]['sha']}"))["tree"]["sha"]
        trees = [tree_of(await self._gh.repo_call("GET", f"/git/trees/{sha}", params={"recursive": 1}))
                 for sha in (parent_tree, commit["commit"]["tree"]["sha"], base_tree)]
        files = [ChangedFile.model_validate(item) for item in commit.get("files", [])]
        entries = revert_entries(files=files, parent=trees[0], commit=trees[1], base=trees[2])
        tree = await self._gh.repo_call("POST", "/git/trees", json={"base_tree": base_tree, "tree": entries},
                                        idempotent=True)
        # The original subject, quietened: a "Fixes #12" in it must not close #12 when the revert merges.
        subject = bodies.quiet(" ".join(str(commit["commit"].get("message", "")).split("\n", 1)[0].split())[:60])
        message = (f"Revert \"{subject}\"\n\nThis reverts commit {commit['sha']}.\n"
                   f"Proposed by oncall-copilot for incident {incident_id}.")
        made = await self._gh.repo_call("POST", "/git/commits", idempotent=True,
                                        json={"message": message, "tree": tree["sha"], "parents": [base_sha]})
        return str(made["sha"])


__all__ = ["Filed", "GitHubError", "GitHubFiler"]

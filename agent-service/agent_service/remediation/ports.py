"""The narrow port to where changes are filed for review (GitHub: remediation/github/, built on its
own branch). Optional: None when GITHUB_TOKEN is unset, and then nothing is filed."""

from __future__ import annotations

from typing import Protocol

from agent_service.remediation.models import AnyProposal


class ChangeFiler(Protocol):
    async def file_issue(self, incident_id: int, title: str, body_markdown: str, labels: list[str]) -> str:
        """Open an issue with the incident's report; its URL."""
        ...

    async def open_draft_pr(self, proposal: AnyProposal, incident_id: int, title: str, body: str) -> str | None:
        """A draft pull request with the proposed change (a revert of the deploy's commit, a
        config patch); its URL, or None when the proposal is not one a PR can carry."""
        ...

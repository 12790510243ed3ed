"""One validation for every engine's proposals: typed (the union), named scopes that exist in the
analysed data (the breakdown or get_backends answers the findings rest on), ids given here, and
`executable_here` true only where a Runtime API socket is configured for the action. What does not
pass is dropped with a log line, never sent on."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from agent_service.models import Finding
from agent_service.remediation.models import RUNTIME_TYPES, AnyProposal, Proposal, summary

log = logging.getLogger(__name__)
MAX_PROPOSALS = 8
_ADAPTER: TypeAdapter[AnyProposal] = TypeAdapter(Proposal)
_MAX_DEPTH = 6


@dataclass
class Known:
    """The backends and backend/server pairs an analysis saw."""

    backends: set[str] = field(default_factory=set)
    servers: set[tuple[str, str]] = field(default_factory=set)

    def add_server(self, backend: Any, server: Any) -> None:
        if isinstance(backend, str) and isinstance(server, str) and server != "<NOSRV>":
            self.backends.add(backend)
            self.servers.add((backend, server))


def _walk(node: Any, known: Known, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, Mapping):
        kind, name = node.get("kind"), node.get("name")
        if kind == "backend" and isinstance(name, str):
            known.backends.add(name)
        elif kind == "server":
            known.add_server(node.get("backend"), node.get("server"))
        for row in node.get("backends") or [] if isinstance(node.get("backends"), list) else []:
            if isinstance(row, Mapping) and isinstance(row.get("name"), str):
                known.backends.add(row["name"])
                for srv in row.get("servers") or []:
                    if isinstance(srv, Mapping):
                        known.add_server(row["name"], srv.get("name"))
        for value in node.values():
            if isinstance(value, (Mapping, list)):
                _walk(value, known, depth + 1)
    elif isinstance(node, list):
        for item in node:
            _walk(item, known, depth + 1)


def known_names(findings: Sequence[Finding]) -> Known:
    known = Known()
    for f in findings:
        for item in f.evidence:
            _walk(item.result, known)
    return known


def _problem(p: AnyProposal, known: Known) -> str | None:
    server = getattr(p, "server", None)
    backend = getattr(p, "backend", None)
    if server is not None and (backend, server) not in known.servers:
        return f"server {backend}/{server} is not in the analysed data"
    if backend is not None and backend not in known.backends:
        return f"backend {backend} is not in the analysed data"
    if p.type == "rollback" and not (p.backend or getattr(p, "service", None)):
        return "a rollback names a backend or a service"
    if p.type == "rate_limit" and not (getattr(p, "path", None) or getattr(p, "client", None)):
        return "a rate limit names a path or a client"
    return None


def validate_proposals(raw: Iterable[Any], known: Known, *, runtime: bool) -> list[AnyProposal]:
    """Each item (a proposal or its JSON) typed and checked; ids p1, p2, … in order; duplicates of
    the same action kept once. `runtime`: a Runtime API socket is configured."""
    out: list[AnyProposal] = []
    seen: set[str] = set()
    for item in raw:
        try:
            p = _ADAPTER.validate_python(item.model_dump() if hasattr(item, "model_dump") else item)
        except ValidationError as exc:
            log.warning("remediation proposal dropped: not a valid proposal (%s)", exc.errors()[0]["msg"] if exc.errors() else exc)
            continue
        problem = _problem(p, known)
        if problem:
            log.warning("remediation proposal %s dropped: %s", summary(p), problem)
            continue
        key = summary(p)
        if key in seen:
            continue
        seen.add(key)
        out.append(p.model_copy(update={"id": f"p{len(out) + 1}", "executable_here": runtime and p.type in RUNTIME_TYPES}))
        if len(out) >= MAX_PROPOSALS:
            break
    return out

"""The rules engine's proposals (pure): the ranked hypotheses of a Diagnosis in, typed proposals
out. Only what the facts decide: a bad server (or a few) set apart from healthy peers → drain it; a regression
right after a recorded change → roll it back to the version before; a backend queueing on every
server → scale it out; nothing actionable on a critical report → escalate."""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent_service.diagnosis.changes import Change, nearest_before
from agent_service.diagnosis.data import ScopeData, real_servers, server_name
from agent_service.diagnosis.diagnose import Diagnosis
from agent_service.diagnosis.hypothesis import Hypothesis, worst
from agent_service.remediation.models import AnyProposal, DrainServer, Escalate, Risk, Rollback, ScaleOut, Undo

SERVER_MODES = frozenset({"server_refusing", "server_errors", "server_slow"})
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_RELEASES = frozenset({"deploy", "rollback"})


def _facts(h: Hypothesis) -> list[str]:
    return [h.sentence[:300], *(s[:300] for s in h.support)][:5]


def _singled_out(h: Hypothesis, pool: Sequence[ScopeData]) -> bool:
    """The server's own numbers set it apart: it holds the backend's 5xx, its share of the requests
    fell, it is slow alone, or it holds most of the backend's refused connections (SC). A few
    refusals spread over the pool (a flapping network in front of it) single out nobody."""
    if h.mode != "server_refusing" or {"server_5xx_share_pct", "server_share_pct", "server_refused_pct"} & set(h.numbers):
        return True
    refused = {server_name(s): s.now.ended("S", "C") for s in pool}
    total = sum(refused.values())
    return total > 0 and refused.get(h.server or "", 0) * 3 >= total * 2


def _drain(h: Hypothesis, d: Diagnosis) -> DrainServer | None:
    backend, server = h.backend, h.server
    if not backend or not server or h.timing.recovered:
        return None
    on_backend = [p for p in d.problems if p.backend == backend]
    if any(p.mode == "no_server" for p in on_backend):
        return None  # the whole backend is down: draining one server helps nobody
    bad = {p.server for p in on_backend if p.server}
    pool = [s for s in real_servers(d.case.data.servers(backend)) if s.now.requests]
    healthy = [s for s in pool if server_name(s) not in bad]
    if not healthy:
        return None  # the last server serving: never drain it
    if len(bad) > 1 and not (len(healthy) >= len(bad) and all(
            _singled_out(p, pool) for p in on_backend if p.server and p.mode in SERVER_MODES)):
        return None  # several named: each set apart from its peers, and never the larger part of the pool
    if not _singled_out(h, pool):
        return None
    level = "low" if len(healthy) >= 2 and len(bad) == 1 else "medium"
    peers = ", ".join(server_name(s) for s in healthy[:5])
    return DrainServer(
        backend=backend, server=server, evidence=_facts(h),
        risk=Risk(level=level, why=f"{len(healthy)} healthy peer(s) ({peers}) take its share of the traffic"),
        undo=Undo(how=f"put {backend}/{server} back in rotation", command=f"set server {backend}/{server} state ready"))


def _before(changes: Sequence[Change], change: Change) -> Change | None:
    older = [c for c in changes if c.kind in _RELEASES and c.backend == change.backend and c.at < change.at
             and c.version and c.version != change.version]
    return max(older, key=lambda c: c.at, default=None)


def _rollback(h: Hypothesis, d: Diagnosis) -> Rollback | None:
    changes = d.case.changes
    if h.mode != "regression" or changes is None or not h.backend or h.timing.recovered:
        return None
    change = nearest_before(changes, h.backend, h.timing.onset or d.case.data.window.start)
    if change is None or change.kind not in ("deploy", "config", "feature_flag"):
        return None
    previous = _before(changes, change)
    what = change.version or change.id
    commit = change.version if change.version and _SHA.match(change.version) else None
    return Rollback(
        backend=h.backend, from_version=change.version, to_version=previous.version if previous else None,
        commit=commit, change_id=change.id[:128], evidence=_facts(h),
        risk=Risk(level="medium", why=f"undoes {change.label}; whatever else it shipped goes too"),
        undo=Undo(how=f"deploy {what} again"))


def _scale_out(h: Hypothesis, d: Diagnosis) -> ScaleOut | None:
    if h.mode != "overloaded_queueing" or not h.backend or h.timing.recovered:
        return None
    pool = [s for s in real_servers(d.case.data.servers(h.backend)) if s.now.requests]
    if not pool or any(not s.now.queued for s in pool):
        return None  # not every server queues: a balancing problem, not capacity
    return ScaleOut(
        backend=h.backend, by=max(1, round(len(pool) / 2)), evidence=_facts(h),
        risk=Risk(level="low", why="more servers behind the same backend; costs capacity, not correctness"),
        undo=Undo(how=f"remove the added servers from {h.backend} once the queue is gone"))


def propose(diagnosis: Diagnosis) -> list[AnyProposal]:
    out: list[AnyProposal] = []
    for h in diagnosis.problems:
        made: AnyProposal | None = None
        if h.mode in SERVER_MODES:
            made = _drain(h, diagnosis)
        elif h.mode == "regression":
            made = _rollback(h, diagnosis)
        elif h.mode == "overloaded_queueing":
            made = _scale_out(h, diagnosis)
        if made is not None:
            out.append(made)
    # A server to drain comes first and is the cause of its backend's queue: no scale-out beside it.
    drained = {p.backend for p in out if isinstance(p, DrainServer)}
    out = [p for p in out if not (isinstance(p, ScaleOut) and p.backend in drained)]
    out.sort(key=lambda p: not isinstance(p, (DrainServer, Rollback)))
    problems = diagnosis.problems
    if not out and problems and worst(h.severity for h in problems) == "critical":
        root = problems[0]
        where = root.backend or root.where
        out.append(Escalate(
            to=f"the owner of {where}", backend=root.backend,
            why=f"critical and nothing the copilot can act on: {root.headline} on {where}"[:500],
            evidence=_facts(root), risk=Risk(level="low", why="a page to a person"),
            undo=Undo(how="nothing to undo")))
    return out

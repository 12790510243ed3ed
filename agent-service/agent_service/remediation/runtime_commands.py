"""The HAProxy Runtime API commands of the runtime proposals (pure): what to read first, what to
send, how to read the previous value from HAProxy's answer, and the inverse command that restores
it. Names reach here validated (models._NAME: no spaces, no `;` — HAProxy's command separator)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent_service.remediation.models import AnyProposal, DrainServer, SetMaxconn, SetServerWeight

# srv_admin_state bits of `show servers state` (HAProxy's enum srv_admin): maintenance, then drain.
_MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
_DRAIN_BITS = 0x08 | 0x10


class RuntimeAnswerError(ValueError):
    """HAProxy's answer does not hold the value asked for (unknown server, a changed format)."""


@dataclass(frozen=True)
class Plan:
    read: str  # the command that reads the previous value
    send: str  # the command the proposal stands for
    previous: Callable[[str], str]  # HAProxy's answer to `read` → the previous value
    inverse: Callable[[str], str]  # the previous value → the command that restores it


def admin_state(answer: str, backend: str, server: str) -> str:
    """`ready`, `drain` or `maint` of one server, from `show servers state <backend>`."""
    for line in answer.splitlines():
        cols = line.split()
        if len(cols) > 6 and not line.startswith("#") and cols[1] == backend and cols[3] == server:
            try:
                bits = int(cols[6])
            except ValueError:
                break
            return "maint" if bits & _MAINT_BITS else "drain" if bits & _DRAIN_BITS else "ready"
    raise RuntimeAnswerError(f"{backend}/{server} is not in HAProxy's server state: {_first(answer)}")


def weight(answer: str) -> str:
    """`get weight be/srv` answers `12 (initial 10)`: the current weight."""
    head = answer.strip().split(" ", 1)[0]
    if not head.isdigit():
        raise RuntimeAnswerError(f"no weight in HAProxy's answer: {_first(answer)}")
    return head


def server_maxconn(answer: str, backend: str, server: str) -> str:
    """The `slim` column (a server's maxconn; empty = none, given back as 0) of `show stat`."""
    lines = [line for line in answer.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("# "):
        raise RuntimeAnswerError(f"not a `show stat` answer: {_first(answer)}")
    header = lines[0][2:].split(",")
    try:
        px, sv, slim = header.index("pxname"), header.index("svname"), header.index("slim")
    except ValueError:
        raise RuntimeAnswerError("`show stat` has no pxname/svname/slim columns") from None
    for line in lines[1:]:
        cols = line.split(",")
        if len(cols) > slim and cols[px] == backend and cols[sv] == server:
            return cols[slim] or "0"
    raise RuntimeAnswerError(f"{backend}/{server} is not in HAProxy's stats")


def _first(answer: str) -> str:
    return (answer.strip().splitlines() or ["(empty answer)"])[0][:200]


def plan(p: AnyProposal) -> Plan | None:
    """The Runtime API plan of a runtime proposal; None for the others."""
    if isinstance(p, DrainServer):
        be, srv = p.backend, p.server
        return Plan(read=f"show servers state {be}", send=f"set server {be}/{srv} state drain",
                    previous=lambda a: admin_state(a, be, srv),
                    inverse=lambda prev: f"set server {be}/{srv} state {prev}")
    if isinstance(p, SetServerWeight):
        be, srv = p.backend, p.server
        return Plan(read=f"get weight {be}/{srv}", send=f"set server {be}/{srv} weight {p.weight}",
                    previous=weight, inverse=lambda prev: f"set server {be}/{srv} weight {prev}")
    if isinstance(p, SetMaxconn):
        be, srv = p.backend, p.server
        return Plan(read=f"show stat {be} 4 -1", send=f"set maxconn server {be}/{srv} {p.maxconn}",
                    previous=lambda a: server_maxconn(a, be, srv),
                    inverse=lambda prev: f"set maxconn server {be}/{srv} {prev}")
    return None

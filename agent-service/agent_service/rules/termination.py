"""What HAProxy termination states mean (first two characters of the state)."""

from __future__ import annotations

_CAUSE = {
    "C": "the client aborted",
    "S": "the server aborted or refused",
    "P": "the proxy blocked or aborted",
    "R": "a proxy resource ran out",
    "I": "an internal proxy error",
    "D": "the server was down",
    "L": "the proxy answered locally",
    "K": "an administrator killed the session",
    "c": "the client timed out",
    "s": "the server timed out",
}
_PHASE = {
    "R": "waiting for the request",
    "Q": "waiting in a queue",
    "C": "connecting to the server",
    "H": "waiting for the response headers",
    "D": "transferring data",
    "L": "sending the last data",
    "T": "tarpitted",
}


def meaning(state: str) -> str:
    if len(state) < 2 or state[:2] == "--":
        return "normal completion"
    cause = _CAUSE.get(state[0], "an unknown cause")
    phase = _PHASE.get(state[1], "an unknown phase")
    return f"{cause} while {phase}"


def abnormal(states: dict[str, int]) -> list[tuple[str, int]]:
    """Non-normal states, most frequent first."""
    rows = [(s, n) for s, n in states.items() if n > 0 and not s.startswith("--") and s[:1] != "-"]
    return sorted(rows, key=lambda row: -row[1])


def is_server_side(state: str) -> bool:
    return state[:1] in {"S", "s", "D"} or state[:2] in {"SC", "sC"}


def is_queue_timeout(state: str) -> bool:
    return state[:2] == "sQ"

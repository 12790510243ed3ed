"""How HAProxy logs a request that did not simply succeed: connection retries and redispatches,
refused connections, client aborts and proxy denials (configuration manual 8.4 "Timing events",
8.5 "Stream state at disconnection"; `retries`, `option redispatch`). Pure: numbers in, shapes out.

Timers are (TR, Tw, Tc, Tr, Ta) in ms, -1 where HAProxy never reached that step.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

Timers = tuple[int, int, int, int, int]


def turnaround_ms(timeout_connect_ms: int) -> int:
    """The wait before a retry on the same server: min(`timeout connect`, 1 s)."""
    return min(timeout_connect_ms, 1000)


@dataclass(frozen=True, slots=True)
class Connect:
    """The connection phase of one request."""

    server: str  # the server logged: the last one tried (after a redispatch, the peer)
    retries: int
    redispatched: bool  # logged as `+retries`
    tc_extra_ms: int  # turn-around waits on the same server: Tc runs from the last assignment
    tw_extra_ms: int  # time before a redispatch: HAProxy sets Tw again when it reassigns
    connected: bool  # False: 503 SC-- after the last retry


def connect(first: str, servers: list[str], refused: Callable[[str], float], *, retries: int,
            redispatch: bool, turnaround: int, rng: random.Random) -> Connect:
    """Attempts on `first`, each refused (TCP RST, at once) with probability `refused(server)`.
    A refused attempt is retried after a turn-around on the same server; with `redispatch` the
    last retry goes to another server of the pool, without a turn-around (backend.c,
    back_handle_st_cer: "only wait when we're retrying on the same server")."""
    server, waited, before, redispatched = first, 0, 0, False
    peers = [s for s in servers if s != first]
    for attempt in range(retries + 1):
        if attempt > 0:
            if redispatch and attempt == retries and peers:
                server, before, waited, redispatched = rng.choice(peers), before + waited, 0, True
            else:
                waited += turnaround
        if rng.random() >= refused(server):
            return Connect(server, attempt, redispatched, waited, before, True)
    return Connect(server, retries, redispatched, waited, before, False)


def planned_retries(first: str, servers: list[str], *, count: int, redispatch: bool, turnaround: int,
                    fail: bool, rng: random.Random) -> Connect:
    """A request known to need `count` retries (a `retries:` phase), then to connect unless `fail`."""
    peers = [s for s in servers if s != first]
    if redispatch and peers:
        return Connect(rng.choice(peers), count, True, 0, (count - 1) * turnaround, not fail)
    return Connect(first, count, False, count * turnaround, 0, not fail)


def refused_timers(t_req: int, wait: int, conn: Connect, jitter: int) -> Timers:
    """503 SC--: no connection ever established (Tc, Tr -1); Ta holds every wait."""
    queue = wait + conn.tw_extra_ms
    return (t_req, queue, -1, -1, t_req + queue + conn.tc_extra_ms + jitter)


@dataclass(frozen=True, slots=True)
class ClientSide:
    """What a client-side termination makes of a request that had a server response under way."""

    status: int
    timers: Timers
    bytes_read: int


# Default time HAProxy waited, per state, when the scenario does not say (ms).
def default_wait(state: str, *, timeout_client_ms: int, timeout_http_request_ms: int,
                 rng: random.Random) -> float:
    if state in ("cD", "cL"):
        return float(timeout_client_ms)
    if state == "cR":
        return float(timeout_http_request_ms)
    if state == "CH":
        return 2000.0 * rng.uniform(0.5, 1.5)
    if state == "CD":
        return 1500.0 * rng.uniform(0.3, 1.7)
    return 300.0 * rng.uniform(0.0, 1.0)  # CR


def before_request(state: str, wait_ms: float, status: int | None) -> tuple[int, Timers, int]:
    """cR (timeout http-request, 408) and CR (client closed, 400): nothing reached a backend.
    Returns (status, timers, bytes)."""
    ta = round(wait_ms)
    if state == "cR":
        return (408 if status is None else status), (-1, -1, -1, -1, ta), 221
    return (400 if status is None else status), (-1, -1, -1, -1, ta), 0


def after_connect(state: str, status: int, timers: Timers, size: int, wait_ms: float,
                  rng: random.Random) -> ClientSide:
    """CH (client gone while waiting for headers): status -1 unless given, Tr -1. cD / CD: the
    response started (Tr as the server answered), then the client stopped reading (timeout client)
    or closed; cL: the same during the last data. Ta grows by the wait; bytes are a part of the body."""
    t_req, wait, t_conn, response, active = timers
    wait_i = round(wait_ms)
    if state == "CH":
        return ClientSide(status, (t_req, wait, t_conn, -1, t_req + max(wait, 0) + t_conn + wait_i), 0)
    head = t_req + max(wait, 0) + t_conn + response
    data = active - head
    share = rng.uniform(0.85, 0.99) if state == "cL" else rng.uniform(0.05, 0.6)
    return ClientSide(status, (t_req, wait, t_conn, response, head + data + wait_i), round(size * share))


def denied(t_req: int, state: str, tarpit_ms: int) -> Timers:
    """PR-- (http-request deny): only TR is known. PT-- (tarpit): held open for Tw, then answered."""
    if state == "PT--":
        return (t_req, tarpit_ms, -1, -1, t_req + tarpit_ms)
    return (t_req, -1, -1, -1, t_req)

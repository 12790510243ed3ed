"""Scenario → HAProxy httplog lines, seeded and deterministic, ending at a given "now".

Second by second and backend by backend: a Poisson number of requests at the baseline rate times
the active traffic changes; each request draws a server, path, client, status (baseline mix, then
injected errors) and Ta from a log-normal given by p50/p95 (then latency changes). Connections
follow Little's law (concurrency = rate × service time) capped at each server's maxconn; arrivals
beyond the pool's capacity (servers × maxconn / service time) wait in a queue that grows second by
second (srv_queue, Tw) until `timeout queue`, after which they fail as 503 `sQ--`. Rates move
with a backend's `pattern` (diurnal, bursts); requests that were retried, refused, denied or
abandoned by their client take the shapes of terminations.py.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from tests.scenarios import terminations as term_
from tests.scenarios.httplog import Request, Style, format_message, format_request
from tests.scenarios.model import Backend, Phase, Scenario
from tests.scenarios.sampling import Pick, client_ip, mix, poisson, randint

LineStyle = Style | Literal["mixed"]

_Z95 = 1.6448536269514722
_ERROR_BYTES = {502: 209, 503: 217, 504: 198}


@dataclass(slots=True)
class Generated:
    scenario: Scenario
    start: float
    end: float
    requests: list[Request] = field(default_factory=list)
    messages: list[tuple[float, str]] = field(default_factory=list)

    def timed_lines(self, style: LineStyle = "raw") -> list[tuple[float, str]]:
        """Lines by time; `mixed`: each line headerless or with a syslog header (seeded, ~half)."""
        pick = random.Random(self.scenario.seed * 7919 + 1)

        def one() -> Style:
            return style if style != "mixed" else ("syslog" if pick.random() < 0.5 else "raw")

        timed = [(r.at, format_request(r, one())) for r in self.requests]
        timed += [(at, format_message(at, text, one())) for at, text in self.messages]
        timed.sort(key=lambda item: item[0])
        return timed

    def lines(self, style: LineStyle = "raw") -> list[str]:
        return [line for _, line in self.timed_lines(style)]


@dataclass(slots=True)
class _Second:
    """One backend during one second: what its requests share."""

    backend: Backend
    phases: list[tuple[Phase, float]]  # active phases with their intensity 0..1
    rate: float
    nosrv_rate: float
    srv_conn: int
    beconn: int
    srv_queue: int
    backend_queue: int
    wait_ms: float
    timeout_share: float
    any_deny: bool = False  # some active phase denies, has clients aborting, or retries connections
    any_abort: bool = False
    any_connect: bool = False
    routes: Pick | None = None  # frontend weights this second, when a phase moved one's share


def _intensity(phase: Phase, offset: float) -> float:
    """How far a phase has faded in at `offset` (1.0 without a ramp)."""
    return 1.0 if phase.ramp <= 0 else min(1.0, (offset - phase.start + 1) / phase.ramp)


def _sigma(backend: Backend) -> float:
    return math.log(backend.latency.p95_ms / backend.latency.p50_ms) / _Z95


def _matches(phase: Phase, server: str | None, path: str | None, frontend: str | None = None) -> bool:
    """Whether a request (server, path, frontend; None = any) is one the phase changes."""
    if phase.server is not None and phase.server != server:
        return False
    if phase.frontend is not None and frontend is not None and phase.frontend != frontend:
        return False
    return phase.path is None or (path is not None and path.startswith(phase.path))


class _Simulator:
    def __init__(self, scenario: Scenario, start: float) -> None:
        self.scenario = scenario
        self.start = start
        self.rng = random.Random(scenario.seed)
        self.queue = {b.name: 0.0 for b in scenario.baseline.backends}
        self.clients = [client_ip(i) for i in range(scenario.baseline.clients)]
        backends = scenario.baseline.backends
        self.paths = {b.name: Pick(b.paths, [p.weight for p in b.paths]) for b in backends}
        self.statuses = {b.name: Pick(list(b.status), list(b.status.values())) for b in backends}
        self.lognormal = {b.name: (math.log(b.latency.p50_ms), _sigma(b)) for b in backends}
        self.routes = {b.name: Pick(list(b.routes), list(b.routes.values())) for b in backends}

    def active(self, backend: Backend, offset: int) -> list[tuple[Phase, float]]:
        found = []
        for phase in self.scenario.phases:
            if phase.backend not in (None, backend.name):
                continue
            if phase.start <= offset < self.scenario.phase_end(phase):
                found.append((phase, _intensity(phase, offset)))
        return found

    def service_ms(self, backend: Backend, phases: list[tuple[Phase, float]], server: str | None,
                   path: str | None, draw: float, frontend: str | None = None) -> float:
        value = draw
        for phase, intensity in phases:
            if phase.latency and _matches(phase, server, path, frontend):
                value = value * mix(1.0, phase.latency.factor, intensity) + phase.latency.add_ms * intensity
        return min(value, backend.latency.max_ms)

    def second(self, backend: Backend, offset: int) -> _Second:
        phases = self.active(backend, offset)
        rate = backend.rps * (backend.pattern.rate_factor(offset) if backend.pattern else 1.0)
        nosrv = 0.0
        explicit_queue, explicit_wait, explicit_bq, pinned = 0.0, 0.0, 0.0, False
        routes: dict[str, float] | None = None
        for phase, intensity in phases:
            if phase.traffic and phase.frontend is None:
                rate *= mix(1.0, phase.traffic.factor, intensity)
            elif phase.traffic and phase.frontend in backend.routes:
                routes = routes or dict(backend.routes)
                routes[phase.frontend] *= mix(1.0, phase.traffic.factor, intensity)
            if phase.nosrv:
                nosrv = max(nosrv, phase.nosrv.rate * intensity)
            if phase.queue:
                span = self.scenario.phase_end(phase) - phase.start
                progress = min(1.0, (offset - phase.start + 1) / span)
                explicit_queue = max(explicit_queue, phase.queue.srv_queue * progress)
                explicit_wait = max(explicit_wait, phase.queue.wait_ms * progress)
                explicit_bq = max(explicit_bq, phase.queue.backend_queue * progress)
                pinned = True
        if routes is not None:  # a frontend's share of this backend moved: so did the backend's rate
            rate *= sum(routes.values())
        mean = backend.latency.p50_ms * math.exp(_sigma(backend) ** 2 / 2)
        service_s = max(self.service_ms(backend, phases, None, None, mean), 1.0) / 1000
        servers = len(backend.servers)
        capacity = servers * backend.maxconn / service_s
        served = rate * (1 - nosrv)
        max_queue = capacity * backend.timeout_queue_ms / 1000
        queue = min(max(self.queue[backend.name] + served - capacity, 0.0), max_queue)
        self.queue[backend.name] = queue
        timeout_share = (served - capacity) / served if queue >= max_queue and served > capacity else 0.0
        busy = queue > 0 or pinned
        srv_conn = backend.maxconn if busy else min(backend.maxconn, math.ceil(served * service_s / servers))
        srv_queue = max(math.ceil(queue / servers), round(explicit_queue))
        wait_ms = max(queue / capacity * 1000, explicit_wait)
        beconn = srv_conn * servers + srv_queue * servers + round(explicit_bq)
        return _Second(backend, phases, rate, nosrv, srv_conn, beconn, srv_queue, round(explicit_bq),
                       wait_ms, timeout_share, any_deny=any(p.deny for p, _ in phases),
                       any_abort=any(p.client_abort for p, _ in phases),
                       any_connect=any(p.refuse or p.retries for p, _ in phases),
                       routes=None if routes is None else Pick(list(routes), list(routes.values())))

    def _drawn(self, sec: _Second, attr: str, server: str, path: str, frontend: str):  # noqa: ANN202
        """The first active change `attr` of a phase matching this request, drawn by its rate."""
        for phase, intensity in sec.phases:
            change = getattr(phase, attr)
            if change is not None and _matches(phase, server, path, frontend) and self.rng.random() < change.rate * intensity:
                return change
        return None

    def _connect(self, sec: _Second, server: str, path: str, frontend: str) -> term_.Connect | None:
        """Retries of the connection phase (refusing servers, `retries:` phases), or None."""
        backend, rng = sec.backend, self.rng
        turnaround = term_.turnaround_ms(backend.timeout_connect_ms)
        refusing = {p.server: p.refuse.rate * i for p, i in sec.phases
                    if p.refuse is not None and p.server is not None and _matches(p, p.server, path, frontend)}
        if refusing:
            return term_.connect(server, backend.servers, lambda s: refusing.get(s, 0.0), retries=backend.retries,
                                 redispatch=backend.redispatch, turnaround=turnaround, rng=rng)
        planned = self._drawn(sec, "retries", server, path, frontend)
        if planned is None:
            return None
        return term_.planned_retries(server, backend.servers, count=planned.count, redispatch=planned.redispatch,
                                     turnaround=turnaround, fail=rng.random() < planned.fail, rng=rng)

    def request(self, sec: _Second, at: float, actconn: int, feconn: dict[str, int], *,
                flood: Phase | None) -> Request:
        rng, backend = self.rng, sec.backend
        server = backend.servers[int(rng.random() * len(backend.servers))]
        routes = sec.routes or self.routes[backend.name]
        frontend = routes.items[0] if len(routes.items) == 1 else routes(rng)
        if flood is not None and flood.flood is not None:
            client, method, path, status = flood.flood.client_ip, flood.flood.method, flood.flood.path, flood.flood.status
        else:
            client = self.clients[int(rng.random() * len(self.clients))]
            choice = self.paths[backend.name](rng)
            method, path = choice.method, choice.path
            status = self.statuses[backend.name](rng)
            for phase, intensity in sec.phases:
                if phase.errors and _matches(phase, server, path, frontend) and rng.random() < phase.errors.rate * intensity:
                    status = rng.choice(phase.errors.status)
        draw = rng.lognormvariate(*self.lognormal[backend.name])
        service = self.service_ms(backend, sec.phases, server, path, draw, frontend)
        if flood is not None:
            service = max(1.0, service * 0.2)
        t_req, t_conn = randint(rng, 0, 2), randint(rng, 0, 1)
        wait = round(sec.wait_ms * rng.uniform(0.8, 1.2)) if sec.wait_ms > 0 else 0
        retries, term, size = 0, "----", self._bytes(backend, status)
        srv_conn, srv_queue, bq = sec.srv_conn, sec.srv_queue, sec.backend_queue
        be_name, redispatched, beconn = backend.name, False, sec.beconn
        deny = self._drawn(sec, "deny", server, path, frontend) if sec.any_deny else None
        abort = self._drawn(sec, "client_abort", server, path, frontend) if sec.any_abort else None
        conn = None
        if deny is not None:
            term, server = deny.state, "<NOSRV>"
            status = deny.status or (500 if deny.state == "PT--" else 403)
            timers, size = term_.denied(t_req, deny.state, deny.tarpit_ms), randint(rng, 180, 240)
            srv_conn = srv_queue = bq = 0
            if deny.where == "frontend":
                be_name, beconn = frontend, 0
        elif abort is not None and abort.state in ("cR", "CR"):
            wait_ms = abort.wait_ms if abort.wait_ms is not None else self._abort_wait(backend, abort.state)
            status, timers, size = term_.before_request(abort.state, wait_ms, abort.status)
            term, server, be_name, method, path = f"{abort.state}--", "<NOSRV>", frontend, "<BADREQ>", ""
            srv_conn = srv_queue = bq = beconn = 0
        elif sec.nosrv_rate and rng.random() < sec.nosrv_rate:
            server, status, term, size = "<NOSRV>", 503, "SC--", 217
            timers = (t_req, -1, -1, -1, t_req)
            srv_conn = srv_queue = 0
        elif sec.timeout_share and rng.random() < sec.timeout_share:
            status, term, size = 503, "sQ--", 217
            timers = (t_req, backend.timeout_queue_ms, -1, -1, t_req + backend.timeout_queue_ms)
        elif status == 503:
            retries, term = backend.retries, "SC--"
            waited = backend.retries * term_.turnaround_ms(backend.timeout_connect_ms)
            timers = (t_req, wait, -1, -1, t_req + wait + waited + randint(rng, 0, 9))
        elif (conn := self._connect(sec, server, path, frontend) if sec.any_connect else None) is not None \
                and not conn.connected:
            status, term, size = 503, "SC--", 217
            timers = term_.refused_timers(t_req, wait, conn, randint(rng, 0, 9))
        else:
            if conn is not None:
                wait += conn.tw_extra_ms
                t_conn += conn.tc_extra_ms
            timers, term = self._answered(backend, status, service, t_req, wait, t_conn)
            if abort is not None and status < 500:
                wait_ms = abort.wait_ms if abort.wait_ms is not None else self._abort_wait(backend, abort.state)
                logged = (abort.status if abort.status is not None else -1) if abort.state == "CH" else status
                shaped = term_.after_connect(abort.state, logged, timers, size, wait_ms, rng)
                status, timers, size, term = shaped.status, shaped.timers, shaped.bytes_read, f"{abort.state}--"
        if conn is not None:
            server, retries, redispatched = conn.server, conn.retries, conn.redispatched
        return Request(
            at=at, client_ip=client, client_port=randint(rng, 1024, 65535), frontend=frontend,
            backend=be_name, server=server, t_request=timers[0], t_queue=timers[1],
            t_connect=timers[2], t_response=timers[3], t_active=timers[4], status=status,
            bytes_read=size, termination=term, actconn=actconn, feconn=feconn[frontend], beconn=beconn,
            srv_conn=srv_conn, retries=retries, srv_queue=srv_queue, backend_queue=bq,
            method=method, path=path, redispatched=redispatched,
        )

    def _answered(self, backend: Backend, status: int, service: float, t_req: int, wait: int,
                  t_conn: int) -> tuple[term_.Timers, str]:
        """A server that answered: 504 sH-- (timeout server struck before the headers: Tr -1),
        502 SH--, or a response with its data time."""
        if status == 504:
            return (t_req, wait, t_conn, -1, t_req + wait + t_conn + backend.timeout_server_ms), "sH--"
        data = randint(self.rng, 0, max(0, round(service * 0.05)))
        response = max(0, round(service) - t_req - t_conn - data)
        return (t_req, wait, t_conn, response, t_req + wait + t_conn + response + data), (
            "SH--" if status == 502 else "----")

    def _abort_wait(self, backend: Backend, state: str) -> float:
        return term_.default_wait(state, timeout_client_ms=backend.timeout_client_ms,
                                  timeout_http_request_ms=backend.timeout_http_request_ms, rng=self.rng)

    def _bytes(self, backend: Backend, status: int) -> int:
        if status in _ERROR_BYTES:
            return _ERROR_BYTES[status]
        if status == 304 or status == 204:
            return randint(self.rng, 120, 260)
        if status >= 400:
            return randint(self.rng, 150, 600)
        return max(0, round(backend.bytes * self.rng.uniform(0.5, 1.5)))

    def run(self) -> Generated:
        scenario = self.scenario
        out = Generated(scenario, self.start, self.start + scenario.duration)
        for phase in scenario.phases:
            if phase.message:
                out.messages.append((self.start + phase.start, phase.message))
        for offset in range(int(scenario.duration)):
            seconds = [self.second(b, offset) for b in scenario.baseline.backends]
            feconn: dict[str, int] = {}
            for sec in seconds:
                for frontend, share in sec.backend.routes.items():
                    feconn[frontend] = feconn.get(frontend, 0) + round(sec.beconn * share)
            actconn = sum(feconn.values())
            batch: list[Request] = []
            for sec in seconds:
                for _ in range(poisson(self.rng, sec.rate)):
                    batch.append(self.request(sec, self.start + offset + self.rng.random(), actconn, feconn, flood=None))
                for phase, intensity in sec.phases:
                    if phase.flood:
                        for _ in range(poisson(self.rng, phase.flood.rps * intensity)):
                            at = self.start + offset + self.rng.random()
                            batch.append(self.request(sec, at, actconn, feconn, flood=phase))
            batch.sort(key=lambda r: r.at)
            out.requests.extend(batch)
        return out


def generate(scenario: Scenario, *, end: datetime | float) -> Generated:
    """All requests of `scenario`, the last second of which ends at `end` ("now")."""
    end_ts = end.timestamp() if isinstance(end, datetime) else float(end)
    return _Simulator(scenario, end_ts - scenario.duration).run()

"""Scenario → HAProxy httplog lines, seeded and deterministic, ending at a given "now".

Second by second and backend by backend: a Poisson number of requests at the baseline rate times
the active traffic changes; each request draws a server, path, client, status (baseline mix, then
injected errors) and Ta from a log-normal given by p50/p95 (then latency changes). Connections
follow Little's law (concurrency = rate × service time) capped at each server's maxconn; arrivals
beyond the pool's capacity (servers × maxconn / service time) wait in a queue that grows second by
second (srv_queue, Tw) until `timeout queue`, after which they fail as 503 `sQ--`.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import datetime

from tests.scenarios.httplog import Request, Style, format_message, format_request
from tests.scenarios.model import Backend, Phase, Scenario

_Z95 = 1.6448536269514722
_ERROR_BYTES = {502: 209, 503: 217, 504: 198}


@dataclass(slots=True)
class Generated:
    scenario: Scenario
    start: float
    end: float
    requests: list[Request] = field(default_factory=list)
    messages: list[tuple[float, str]] = field(default_factory=list)

    def timed_lines(self, style: Style = "raw") -> list[tuple[float, str]]:
        timed = [(r.at, format_request(r, style)) for r in self.requests]
        timed += [(at, format_message(at, text, style)) for at, text in self.messages]
        timed.sort(key=lambda item: item[0])
        return timed

    def lines(self, style: Style = "raw") -> list[str]:
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


def _intensity(phase: Phase, offset: float) -> float:
    """How far a phase has faded in at `offset` (1.0 without a ramp)."""
    return 1.0 if phase.ramp <= 0 else min(1.0, (offset - phase.start + 1) / phase.ramp)


def _mix(base: float, target: float, intensity: float) -> float:
    return base + (target - base) * intensity


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _sigma(backend: Backend) -> float:
    return math.log(backend.latency.p95_ms / backend.latency.p50_ms) / _Z95


class _Pick:
    """Weighted choice with precomputed cumulative weights (one random draw per pick)."""

    def __init__(self, items: list, weights: list[float]) -> None:
        self.items = items
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):  # noqa: ANN204 - returns an item of `items`
        return self.items[min(bisect.bisect_right(self.cumulative, rng.random() * self.total), len(self.items) - 1)]


def _randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _client_ip(index: int) -> str:
    return f"10.20.{index // 250 % 250}.{index % 250 + 1}"


def _matches(phase: Phase, server: str | None, path: str | None) -> bool:
    if phase.server is not None and phase.server != server:
        return False
    return phase.path is None or (path is not None and path.startswith(phase.path))


class _Simulator:
    def __init__(self, scenario: Scenario, start: float) -> None:
        self.scenario = scenario
        self.start = start
        self.rng = random.Random(scenario.seed)
        self.queue = {b.name: 0.0 for b in scenario.baseline.backends}
        self.clients = [_client_ip(i) for i in range(scenario.baseline.clients)]
        backends = scenario.baseline.backends
        self.paths = {b.name: _Pick(b.paths, [p.weight for p in b.paths]) for b in backends}
        self.statuses = {b.name: _Pick(list(b.status), list(b.status.values())) for b in backends}
        self.lognormal = {b.name: (math.log(b.latency.p50_ms), _sigma(b)) for b in backends}

    def active(self, backend: Backend, offset: int) -> list[tuple[Phase, float]]:
        found = []
        for phase in self.scenario.phases:
            if phase.backend not in (None, backend.name):
                continue
            if phase.start <= offset < self.scenario.phase_end(phase):
                found.append((phase, _intensity(phase, offset)))
        return found

    def service_ms(self, backend: Backend, phases: list[tuple[Phase, float]], server: str | None,
                   path: str | None, draw: float) -> float:
        value = draw
        for phase, intensity in phases:
            if phase.latency and _matches(phase, server, path):
                value = value * _mix(1.0, phase.latency.factor, intensity) + phase.latency.add_ms * intensity
        return min(value, backend.latency.max_ms)

    def second(self, backend: Backend, offset: int) -> _Second:
        phases = self.active(backend, offset)
        rate = backend.rps
        nosrv = 0.0
        explicit_queue, explicit_wait, explicit_bq, pinned = 0.0, 0.0, 0.0, False
        for phase, intensity in phases:
            if phase.traffic:
                rate *= _mix(1.0, phase.traffic.factor, intensity)
            if phase.nosrv:
                nosrv = max(nosrv, phase.nosrv.rate * intensity)
            if phase.queue:
                span = self.scenario.phase_end(phase) - phase.start
                progress = min(1.0, (offset - phase.start + 1) / span)
                explicit_queue = max(explicit_queue, phase.queue.srv_queue * progress)
                explicit_wait = max(explicit_wait, phase.queue.wait_ms * progress)
                explicit_bq = max(explicit_bq, phase.queue.backend_queue * progress)
                pinned = True
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
                       wait_ms, timeout_share)

    def request(self, sec: _Second, at: float, actconn: int, feconn: int, *, flood: Phase | None) -> Request:
        rng, backend = self.rng, sec.backend
        server = backend.servers[int(rng.random() * len(backend.servers))]
        if flood is not None and flood.flood is not None:
            client, method, path, status = flood.flood.client_ip, flood.flood.method, flood.flood.path, flood.flood.status
        else:
            client = self.clients[int(rng.random() * len(self.clients))]
            choice = self.paths[backend.name](rng)
            method, path = choice.method, choice.path
            status = self.statuses[backend.name](rng)
            for phase, intensity in sec.phases:
                if phase.errors and _matches(phase, server, path) and rng.random() < phase.errors.rate * intensity:
                    status = rng.choice(phase.errors.status)
        draw = rng.lognormvariate(*self.lognormal[backend.name])
        service = self.service_ms(backend, sec.phases, server, path, draw)
        if flood is not None:
            service = max(1.0, service * 0.2)
        t_req, t_conn = _randint(rng, 0, 2), _randint(rng, 0, 1)
        wait = round(sec.wait_ms * rng.uniform(0.8, 1.2)) if sec.wait_ms > 0 else 0
        retries, term, size = 0, "----", self._bytes(backend, status)
        srv_conn, srv_queue, bq = sec.srv_conn, sec.srv_queue, sec.backend_queue
        if sec.nosrv_rate and rng.random() < sec.nosrv_rate:
            server, status, term, size = "<NOSRV>", 503, "SC--", 217
            timers = (t_req, -1, -1, -1, t_req)
            srv_conn = srv_queue = 0
        elif sec.timeout_share and rng.random() < sec.timeout_share:
            status, term, size = 503, "sQ--", 217
            timers = (t_req, backend.timeout_queue_ms, -1, -1, t_req + backend.timeout_queue_ms)
        elif status == 503:
            retries, term = 3, "SC--"
            timers = (t_req, wait, -1, -1, t_req + wait + 3000 + _randint(rng, 0, 9))
        elif status == 504:
            term = "sH--"
            timers = (t_req, wait, t_conn, backend.timeout_server_ms, t_req + wait + t_conn + backend.timeout_server_ms)
        else:
            term = "SH--" if status == 502 else "----"
            data = _randint(rng, 0, max(0, round(service * 0.05)))
            response = max(0, round(service) - t_req - t_conn - data)
            timers = (t_req, wait, t_conn, response, t_req + wait + t_conn + response + data)
        return Request(
            at=at, client_ip=client, client_port=_randint(rng, 1024, 65535), frontend=backend.frontend,
            backend=backend.name, server=server, t_request=timers[0], t_queue=timers[1],
            t_connect=timers[2], t_response=timers[3], t_active=timers[4], status=status,
            bytes_read=size, termination=term, actconn=actconn, feconn=feconn, beconn=sec.beconn,
            srv_conn=srv_conn, retries=retries, srv_queue=srv_queue, backend_queue=bq,
            method=method, path=path,
        )

    def _bytes(self, backend: Backend, status: int) -> int:
        if status in _ERROR_BYTES:
            return _ERROR_BYTES[status]
        if status == 304 or status == 204:
            return _randint(self.rng, 120, 260)
        if status >= 400:
            return _randint(self.rng, 150, 600)
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
                feconn[sec.backend.frontend] = feconn.get(sec.backend.frontend, 0) + sec.beconn
            actconn = sum(feconn.values())
            batch: list[Request] = []
            for sec in seconds:
                fe = feconn[sec.backend.frontend]
                for _ in range(_poisson(self.rng, sec.rate)):
                    batch.append(self.request(sec, self.start + offset + self.rng.random(), actconn, fe, flood=None))
                for phase, intensity in sec.phases:
                    if phase.flood:
                        for _ in range(_poisson(self.rng, phase.flood.rps * intensity)):
                            at = self.start + offset + self.rng.random()
                            batch.append(self.request(sec, at, actconn, fe, flood=phase))
            batch.sort(key=lambda r: r.at)
            out.requests.extend(batch)
        return out


def generate(scenario: Scenario, *, end: datetime | float) -> Generated:
    """All requests of `scenario`, the last second of which ends at `end` ("now")."""
    end_ts = end.timestamp() if isinstance(end, datetime) else float(end)
    return _Simulator(scenario, end_ts - scenario.duration).run()

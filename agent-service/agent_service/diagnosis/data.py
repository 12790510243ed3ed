"""The facts of one analysis, read from ingestion's `get_breakdown` answer: every scope (site,
frontend, backend, server) over the window and over its baseline, with per-minute series.

Pure: a dict in, frozen dataclasses out. Tolerant of missing fields (older ingestion, a scope
without `Tr`): an absent number is None or 0, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Kind = Literal["site", "frontend", "backend", "server"]
NOSRV = "<NOSRV>"


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Timer:
    """Quantiles of one HAProxy timer (Ta or Tr) over a span, in ms."""

    count: int = 0
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None
    mean: float | None = None

    @classmethod
    def of(cls, raw: Any) -> Timer | None:
        if not isinstance(raw, Mapping):
            return None
        return cls(_int(raw.get("count")), _float(raw.get("p50_ms")), _float(raw.get("p90_ms")),
                   _float(raw.get("p95_ms")), _float(raw.get("p99_ms")), _float(raw.get("max_ms")),
                   _float(raw.get("mean_ms")))


@dataclass(frozen=True)
class Stats:
    """One scope over one span."""

    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    status: Mapping[int, int] = field(default_factory=dict)
    terminations: Mapping[str, int] = field(default_factory=dict)
    retries: int = 0
    retried: int = 0  # requests with at least one retry
    redispatches: int = 0
    queued: int = 0
    client_aborts: int = 0
    max_srv_queue: int = 0
    max_backend_queue: int = 0
    ta: Timer = field(default_factory=Timer)
    tr: Timer | None = None
    tc_mean: float | None = None
    tw_mean: float | None = None

    @classmethod
    def of(cls, raw: Any) -> Stats:
        r = raw if isinstance(raw, Mapping) else {}
        status = {}
        for code, n in (r.get("status_codes") or {}).items():
            if str(code).lstrip("-").isdigit():
                status[int(code)] = _int(n)
        return cls(
            requests=_int(r.get("requests")), errors_4xx=_int(r.get("errors_4xx")),
            errors_5xx=_int(r.get("errors_5xx")), status=status,
            terminations={str(k): _int(v) for k, v in (r.get("terminations") or {}).items()},
            retries=_int(r.get("retries")), retried=_int(r.get("retried_requests")),
            redispatches=_int(r.get("redispatches")), queued=_int(r.get("queued")),
            client_aborts=_int(r.get("client_aborts")), max_srv_queue=_int(r.get("max_srv_queue")),
            max_backend_queue=_int(r.get("max_backend_queue")),
            ta=Timer.of(r.get("ta")) or Timer(), tr=Timer.of(r.get("tr")),
            tc_mean=_float(r.get("tc_mean_ms")), tw_mean=_float(r.get("tw_mean_ms")),
        )

    def share(self, count: float) -> float:
        """`count` as a percentage of the requests (0 when there were none)."""
        return 100.0 * count / self.requests if self.requests else 0.0

    @property
    def rate_5xx(self) -> float:
        return self.share(self.errors_5xx)

    @property
    def rate_4xx(self) -> float:
        return self.share(self.errors_4xx)

    def ended(self, first: str, second: str | None = None) -> int:
        """Requests whose termination state starts with one of `first`'s characters (and, when
        given, whose second character is one of `second`'s)."""
        return sum(n for state, n in self.terminations.items()
                   if state[:1] and state[0] in first and (second is None or state[1:2] in second))

    def states(self, first: str, second: str | None = None) -> dict[str, int]:
        return {s: n for s, n in self.terminations.items()
                if s[:1] and s[0] in first and (second is None or s[1:2] in second) and n}

    @property
    def proxy_ended(self) -> int:
        """Requests HAProxy itself ended (`P`: denied, tarpitted, rate-limited by a rule): no
        server saw them, and a tarpit's hold is in their `Tw`, which is no queue."""
        return self.ended("P")

    @property
    def server_queued(self) -> int:
        """Requests that waited in a server or backend queue: `queued` (Tw > 0) without the
        tarpitted ones, whose Tw is HAProxy's hold."""
        return max(0, self.queued - self.ended("P", "T"))

    @property
    def client_ended(self) -> int:
        """Requests the client ended (abort `C`, timeout `c`), from the states or the counter."""
        return max(self.ended("Cc"), self.client_aborts)

    def codes(self, low: int, high: int) -> dict[int, int]:
        return {c: n for c, n in self.status.items() if low <= c < high and n}


@dataclass(frozen=True)
class Series:
    """Per-minute columns over a span, oldest first."""

    start: datetime | None = None
    columns: Mapping[str, tuple[float | None, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, raw: Any) -> Series:
        r = raw if isinstance(raw, Mapping) else {}
        cols = {k: tuple(_float(x) for x in v) for k, v in r.items() if isinstance(v, list)}
        return cls(_when(r.get("start")), cols)

    def col(self, name: str) -> tuple[float, ...]:
        """A count column with gaps as 0."""
        return tuple(x or 0.0 for x in self.columns.get(name, ()))

    def means(self, name: str) -> tuple[float | None, ...]:
        return tuple(self.columns.get(name, ()))

    def __len__(self) -> int:
        return len(self.columns.get("requests", ()))


@dataclass(frozen=True)
class ScopeData:
    kind: Kind
    name: str
    backend: str | None
    server: str | None
    routes: tuple[str, ...]
    now: Stats  # the analysis window
    before: Stats  # the baseline
    now_minutes: Series
    before_minutes: Series

    @property
    def label(self) -> str:
        if self.kind == "site":
            return "the site"
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


@dataclass(frozen=True)
class Breakdown:
    window: Span
    baseline: Span
    scopes: tuple[ScopeData, ...]
    focus: ScopeData | None = None  # an analysis scoped to a backend or frontend: it stands for the site

    @classmethod
    def of(cls, raw: Mapping[str, Any], *, window: Span, baseline: Span) -> Breakdown:
        """`window`/`baseline` are what was asked; the answer's own spans win when it gives them."""

        def span(key: str, asked: Span) -> Span:
            """The minutes the answer covers (whole minutes), ending when the data does: at the
            asked end, inside the answer's last minute."""
            r = raw.get(key) or {}
            start, end = _when(r.get("start")), _when(r.get("end"))
            if not (start and end and end > start):
                return asked
            return Span(start, min(end, asked.end)) if asked.end > start else Span(start, end)

        scopes = []
        for s in raw.get("scopes") or []:
            if not isinstance(s, Mapping) or s.get("kind") not in ("site", "frontend", "backend", "server"):
                continue
            scopes.append(ScopeData(
                kind=s["kind"], name=str(s.get("name") or ""), backend=s.get("backend"),
                server=s.get("server"), routes=tuple(str(x) for x in s.get("routes") or ()),
                now=Stats.of(s.get("window")), before=Stats.of(s.get("baseline")),
                now_minutes=Series.of(s.get("window_minutes")), before_minutes=Series.of(s.get("baseline_minutes")),
            ))
        return cls(span("window", window), span("baseline", baseline), tuple(scopes))

    @property
    def site(self) -> ScopeData | None:
        if self.focus is not None:
            return self.focus
        return next((s for s in self.scopes if s.kind == "site"), None)

    def scoped(self, backend: str | None, frontend: str | None) -> Breakdown:
        """Only what an analysis of one backend (its servers) or one frontend (its backends and
        their servers) judges; that scope stands for the site."""
        kind, name = ("backend", backend) if backend else ("frontend", frontend) if frontend else (None, None)
        focus = self.find(kind, name) if kind and name else None  # type: ignore[arg-type]
        if kind is None:
            return self
        if focus is None:
            return Breakdown(self.window, self.baseline, (), None)
        backends = {name} if kind == "backend" else set(focus.routes)
        keep = [s for s in self.scopes if s is focus or (s.kind == "backend" and s.name in backends)
                or (s.kind == "server" and _backend_of(s) in backends)]
        return Breakdown(self.window, self.baseline, tuple(keep), focus)

    def logs_began(self) -> int | None:
        """Index of the first baseline minute with any traffic on the site (the minutes before it
        are before the logs began, not silence); None when the baseline holds none."""
        col = self.site.before_minutes.col("requests") if self.site else ()
        return next((i for i, v in enumerate(col) if v > 0), None)

    def of_kind(self, kind: Kind) -> list[ScopeData]:
        return [s for s in self.scopes if s.kind == kind]

    def servers(self, backend: str) -> list[ScopeData]:
        return [s for s in self.scopes if s.kind == "server" and _backend_of(s) == backend]

    def proxy_only(self, b: ScopeData) -> bool:
        """A "backend" that is HAProxy answering by itself: a frontend's own name in the backend
        field (a request denied, tarpitted or redirected in the frontend logs the frontend there)
        with no real server behind it in the window (a `listen` section has both names alike
        and real servers)."""
        if b.kind != "backend" or self.find("frontend", b.name) is None:
            return False
        return not any(s.now.requests for s in real_servers(self.servers(b.name)))

    def find(self, kind: Kind, name: str) -> ScopeData | None:
        return next((s for s in self.scopes if s.kind == kind and s.name == name), None)


def _backend_of(s: ScopeData) -> str:
    return s.backend or s.name.partition("/")[0]


def server_name(s: ScopeData) -> str:
    return s.server or s.name.partition("/")[2] or s.name


def real_servers(servers: Sequence[ScopeData]) -> list[ScopeData]:
    """The pool's servers (HAProxy's `<NOSRV>` is no server: the request never reached one)."""
    return [s for s in servers if server_name(s) != NOSRV]

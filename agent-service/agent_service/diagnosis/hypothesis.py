"""What the catalogue's failure modes produce: a hypothesis on one scope, with the facts that
support it, the ones that ruled out its rivals, the numbers that decided, and what to do."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from agent_service.diagnosis.data import ScopeData, Series
from agent_service.diagnosis.stats import Profile
from agent_service.diagnosis.timeline import Timeline
from agent_service.models import SpecialistName

Level = Literal["ok", "warning", "critical"]
RANK: dict[str, int] = {"ok": 0, "warning": 1, "critical": 2}

# Causal order: a mode earlier in this list explains the ones after it on the same backend
# (refused connections → retries → latency is a bad server, not a deploy).
CAUSAL_ORDER = (
    "no_server", "server_refusing", "server_errors", "server_slow", "servers_aborting", "network_connect",
    "server_timeout", "traffic_surge", "overloaded_queueing", "regression", "slow_upstream", "app_errors",
    "retry_storm", "retry_wait", "proxy_denial", "client_errors_4xx", "traffic_drop", "traffic_shift",
    "clients_going_away", "client_time", "proxy_time", "not_server_time", "data_transfer", "small_sample", "redis_memory", "site_latency", "site_errors",
)


@dataclass(frozen=True)
class Timing:
    onset: datetime | None = None
    ongoing: bool = True
    recovered: bool = False
    flapping: bool = False
    from_start: bool = False  # already there in the window's first minute: it began before it
    bad_minutes: int = 0  # minutes of the window the condition held
    episodes: int = 0  # separate runs of bad minutes
    minutes: int = 0  # minutes judged
    first: datetime | None = None  # the first bad minute of the window
    ended: datetime | None = None  # recovered: the end of the last bad minute (back to normal since)

    @classmethod
    def of(cls, p: Profile | Timeline, series: Series) -> Timing:
        onset = first = ended = None
        if series.start is not None:
            if p.onset is not None:
                onset = series.start + timedelta(minutes=p.onset)
            if p.first_bad is not None:
                first = series.start + timedelta(minutes=p.first_bad)
            last_bad = max((i for i, f in enumerate(p.bad) if f), default=None)
            if p.recovered and last_bad is not None:
                ended = series.start + timedelta(minutes=last_bad + 1)
        return cls(onset, p.ongoing, p.recovered, p.flapping, p.onset == 0, p.bad_minutes,
                   p.episodes, len(p.bad), first, ended)

    @property
    def lasted(self) -> int | None:
        """Recovered: the minutes from the episode's onset to its end."""
        if self.onset is None or self.ended is None:
            return None
        return max(1, round((self.ended - self.onset) / timedelta(minutes=1)))

    def recovered_at(self) -> str:
        """`recovered at 14:06 UTC` (empty when it has not recovered)."""
        return f"recovered at {self.ended:%H:%M} UTC" if self.recovered and self.ended else ""

    def at(self) -> str:
        """" at 14:02 UTC", or " before 14:02 UTC" when the window began inside it."""
        if self.onset is None:
            return ""
        return f" {'before' if self.from_start else 'at'} {self.onset:%H:%M} UTC"

    def words(self) -> str:
        at = f" at {self.onset:%H:%M} UTC" if self.onset else ""
        if self.from_start and self.onset and not self.flapping:
            since = f"It was already going on when the window began ({self.onset:%H:%M} UTC)"
            return since + (f" and has recovered since: {self._over()}" if self.recovered else " and still is.")
        if self.recovered:
            return f"It started{at} and has recovered: {self._over()}"
        if self.flapping:
            return self._flapping()
        return f"It started{at} and is still going on." if at else ""

    def _over(self) -> str:
        """"it lasted 4 minutes and ended at 14:06 UTC; the minutes since are back to normal — over,
        not going on."""
        if self.ended is None:
            return "the latest minutes are back to normal."
        lasted = self.lasted or 1
        span = f"at least {lasted}" if self.from_start else f"{lasted}"
        unit = "minute" if lasted == 1 and not self.from_start else "minutes"
        return (f"it lasted {span} {unit} and ended at {self.ended:%H:%M} UTC; the minutes since are back to "
                f"normal — over, not going on.")

    def _flapping(self) -> str:
        """"It comes and goes: bad in 7 of 15 minutes, in 4 episodes since 14:02 UTC; the latest from
        14:12 UTC." The pattern of an intermittent cause (a flapping link, a health check
        bouncing a server in and out, a periodic job), not of a steady one."""
        if not self.episodes or not self.minutes:
            latest = f" (latest episode from {self.onset:%H:%M} UTC)" if self.onset else ""
            return f"It comes and goes{latest}, still flapping."
        since = f" since {self.first:%H:%M} UTC" if self.first else ""
        latest = f"; the latest from {self.onset:%H:%M} UTC" if self.onset else ""
        return (f"It comes and goes: bad in {self.bad_minutes} of {self.minutes} minutes, in "
                f"{self.episodes} episodes{since}{latest} and still going on — look for what switches on and off "
                "(a health check bouncing a server, a flapping link, a periodic job).")


@dataclass(frozen=True)
class Hypothesis:
    mode: str
    specialist: SpecialistName
    severity: Level
    scope: ScopeData
    headline: str  # the problem in a few words, for the title: "api3 refuses connections"
    sentence: str  # what the data says, with the deciding numbers
    recommendation: str  # the first action, on the named scope
    server: str | None = None
    support: tuple[str, ...] = ()
    against: tuple[str, ...] = ()
    numbers: Mapping[str, float] = field(default_factory=dict)
    timing: Timing = field(default_factory=Timing)
    explains: tuple[str, ...] = ()  # modes on the same backend this one is the cause of

    @property
    def backend(self) -> str | None:
        if self.scope.kind == "backend":
            return self.scope.name
        if self.scope.kind == "server":
            return self.scope.backend or self.scope.name.partition("/")[0]
        return None

    @property
    def where(self) -> str:
        """The scope's name as the report shows it: `be_api`, `be_api/api3`, `fe_main`, `the site`."""
        if self.scope.kind == "site":
            return "the site"
        if self.server and self.backend:
            return f"{self.backend}/{self.server}"
        return self.scope.name

    @property
    def causal_rank(self) -> int:
        return CAUSAL_ORDER.index(self.mode) if self.mode in CAUSAL_ORDER else len(CAUSAL_ORDER)


def worst(levels: Iterable[str]) -> Level:
    best: Level = "ok"
    for level in levels:
        if RANK.get(level, -1) > RANK[best]:
            best = level  # type: ignore[assignment]
    return best


def ranked(hypotheses: Iterable[Hypothesis]) -> list[Hypothesis]:
    """Most severe first, then root causes before their consequences, then the named scope."""
    return sorted(hypotheses, key=lambda h: (-RANK[h.severity], h.causal_rank, h.where))

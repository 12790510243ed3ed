"""An incident as HAProxy `option httplog` lines: a healthy baseline, then one backend going bad
(P99 and 5xx up, requests queueing) for the last minutes, timestamps ending now.

Used by scripts/demo.py and the stack tests. Deterministic for a given seed.
Line format (HAProxy manual 8.2.3):
  %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Plan:
    frontend: str = "fe_shop"
    bad_backend: str = "be_checkout"
    good_backend: str = "be_catalog"
    minutes: int = 30           # history replayed, ending now
    bad_minutes: int = 10       # the last minutes during which bad_backend fails
    per_minute: int = 60        # requests per backend per minute
    seed: int = 7


def accept_date(moment: datetime) -> str:
    return (f"{moment.day:02d}/{MONTHS[moment.month - 1]}/{moment.year}:"
            f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}")


def line(moment: datetime, rng: random.Random, *, frontend: str, backend: str, server: str, bad: bool) -> str:
    if bad:
        queue = rng.randint(0, 40)
        active = int(rng.lognormvariate(6.6, 0.5)) + queue  # ~ 750 ms median, P99 ~ 2.5 s
        failed = rng.random() < 0.25
    else:
        queue = 0
        active = int(rng.lognormvariate(3.6, 0.4))  # ~ 37 ms median
        failed = rng.random() < 0.004
    # a saturated backend: requests that waited long in the queue get 503 (sQ--), slow ones 504 (sH--)
    status = (503 if queue > 20 else 504) if failed else (404 if rng.random() < 0.02 else 200)
    termination = ("sQ--" if status == 503 else "sH--") if failed else "----"
    srv_queue = rng.randint(1, 12) if bad and queue else 0
    connect, response = 0, max(0, active - queue - 1)
    path = rng.choice(["/checkout/cart", "/checkout/pay", "/checkout/confirm"]) if "checkout" in backend \
        else rng.choice(["/catalog/items", "/catalog/search?q=shoes", "/catalog/item/42"])
    actconn = rng.randint(5, 20) + (srv_queue * 3 if bad else 0)
    return (f"10.0.{rng.randint(0, 3)}.{rng.randint(2, 250)}:{rng.randint(30000, 60000)} [{accept_date(moment)}] "
            f"{frontend} {backend}/{server} 0/{queue}/{connect}/{response}/{active} {status} "
            f"{rng.randint(200, 4000)} - - {termination} {actconn}/{actconn}/{actconn // 2}/{actconn // 4}/0 "
            f'{srv_queue}/0 "{"POST" if "pay" in path else "GET"} {path} HTTP/1.1"')


def incident_lines(plan: Plan = Plan(), *, end: datetime | None = None) -> list[str]:
    """plan.minutes of traffic for two backends ending at `end` (default now, UTC)."""
    rng = random.Random(plan.seed)  # noqa: S311 - test data
    end = (end or datetime.now(UTC)).astimezone(UTC)
    start = end - timedelta(minutes=plan.minutes)
    lines: list[str] = []
    for minute in range(plan.minutes):
        bad = minute >= plan.minutes - plan.bad_minutes
        for backend in (plan.good_backend, plan.bad_backend):
            for i in range(plan.per_minute):
                moment = start + timedelta(minutes=minute, seconds=(i + rng.random()) * 60 / plan.per_minute)
                moment = min(moment, end - timedelta(milliseconds=1))
                server = f"{backend.removeprefix('be_')}{i % 2 + 1}"
                lines.append(line(moment, rng, frontend=plan.frontend, backend=backend, server=server,
                                  bad=bad and backend == plan.bad_backend))
    lines.sort(key=lambda text: text.split("[", 1)[1][:24])
    return lines

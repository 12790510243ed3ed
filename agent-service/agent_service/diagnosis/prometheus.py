"""What Prometheus said about one analysis, as facts the story can grade and say: whether the
scrape targets of the servers in question are down (`up == 0`), and how many alerts fire.
Pure. Only counts and our own names (backends and servers from the HAProxy logs) are told:
Prometheus' label values and annotations stay in the tool results (untrusted text)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent_service.diagnosis.fmt import num


@dataclass(frozen=True)
class TargetCheck:
    backend: str
    servers: tuple[str, ...]  # the HAProxy servers in question (refusing, or all of a backend with none up)
    down: tuple[str, ...]  # those of them whose Prometheus scrape target is down


@dataclass(frozen=True)
class PrometheusFacts:
    checks: tuple[TargetCheck, ...] = ()
    targets: int | None = None  # count(up); None: not asked or no answer
    targets_down: int | None = None  # series of `up == 0`
    firing: int | None = None  # list_alerts; None: not asked or no answer
    pending: int | None = None
    unanswered: bool = False  # some question got no answer (the evidence says why)


def _names(labels: Mapping[str, Any]) -> set[str]:
    """The names a target may carry for a server: each label value, its host part
    (`api3:9100` → `api3`) and the first part of a domain name (`api3.example` → `api3`)."""
    out: set[str] = set()
    for value in labels.values():
        text = str(value).lower()
        host = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
        out |= {text, host, host.split(".", 1)[0]}
    return out


def down_servers(servers: Sequence[str], down_series: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The servers named by a target of `up == 0` (its series' labels)."""
    names: set[str] = set()
    for series in down_series:
        names |= _names(series.get("labels") or {})
    return tuple(s for s in servers if s.lower() in names)


def _list(items: Sequence[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]


def sentences(facts: PrometheusFacts | None) -> list[str]:
    if facts is None:
        return []
    out: list[str] = []
    if facts.targets is not None and facts.targets_down is not None:
        for check in facts.checks:
            if check.down:
                whose = (f"target of {check.backend}/{check.down[0]} is" if len(check.down) == 1
                         else f"targets of {check.backend}'s servers {_list(check.down)} are")
                out.append(f"Prometheus agrees: the scrape {whose} down (up == 0).")
            elif check.servers:
                out.append(f"Prometheus sees {num(facts.targets_down)} of {num(facts.targets)} scrape targets down "
                           f"(up == 0), none of them named after {check.backend}'s {_list(check.servers)}: it cannot "
                           "confirm this from its side.")
    if facts.firing is not None:
        if facts.firing == 0 and not facts.pending:
            out.append("Prometheus has no alert firing.")
        else:
            pending = f" and {num(facts.pending)} pending" if facts.pending else ""
            out.append(f"Prometheus has {num(facts.firing)} alert{'s' if facts.firing != 1 else ''} firing{pending} "
                       "(list_alerts in the errors finding's evidence).")
    if facts.unanswered:
        out.append("Prometheus did not answer every question (the errors finding's evidence says why): its view is "
                   "incomplete here.")
    return out

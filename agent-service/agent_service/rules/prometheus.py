"""The rules engine's questions to Prometheus (when the tools are there), asked after the
diagnosis so they are only the ones it can grade: the `up` of the servers a backend refuses or
lacks, and what else is firing. The answers become PrometheusFacts on the Case; every call is
evidence of the errors finding (the numbers the story states are in it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent_service.diagnosis.data import real_servers, server_name
from agent_service.diagnosis.diagnose import Diagnosis
from agent_service.diagnosis.prometheus import PrometheusFacts, TargetCheck, down_servers
from agent_service.rules.recorder import Recorder
from agent_service.tools.prometheus import LIST_ALERTS, QUERY_PROMETHEUS

TARGET_MODES = ("no_server", "server_refusing")
DOWN, COUNT = "up == 0", "count(up)"


def in_question(diagnosis: Diagnosis) -> dict[str, tuple[str, ...]]:
    """backend → the servers whose scrape target would confirm the diagnosis."""
    out: dict[str, tuple[str, ...]] = {}
    for h in diagnosis.problems:
        if h.mode not in TARGET_MODES or not h.backend:
            continue
        if h.server:
            servers: tuple[str, ...] = (h.server,)
        else:
            servers = tuple(server_name(s) for s in real_servers(diagnosis.case.data.servers(h.backend)))
        out[h.backend] = tuple(dict.fromkeys(out.get(h.backend, ()) + servers))
    return out


def _count(answer: Any) -> int | None:
    if not isinstance(answer, dict):
        return None
    series = answer.get("series") or []
    if not series:
        return 0  # count() of nothing is an empty vector
    value = series[0].get("value")
    return int(value) if isinstance(value, int | float) else None


async def ask_prometheus(rec: Recorder, diagnosis: Diagnosis, *, at: datetime) -> PrometheusFacts | None:
    """None when Prometheus is not configured (no tools)."""
    asks_alerts, asks_targets = rec.has(LIST_ALERTS), rec.has(QUERY_PROMETHEUS)
    if not (asks_alerts or asks_targets):
        return None
    concerned = in_question(diagnosis) if asks_targets else {}
    end = at.isoformat().replace("+00:00", "Z")
    calls: list[tuple[str, dict[str, Any]]] = []
    if asks_alerts:
        calls.append((LIST_ALERTS, {}))
    if concerned:
        calls += [(QUERY_PROMETHEUS, {"query": DOWN, "end": end}), (QUERY_PROMETHEUS, {"query": COUNT, "end": end})]
    answers = await rec.call_many(calls)
    alerts = answers[0] if asks_alerts else None
    facts = PrometheusFacts(unanswered=any(a is None for a in answers))
    if isinstance(alerts, dict):
        facts = PrometheusFacts(firing=int(alerts.get("firing") or 0), pending=int(alerts.get("pending") or 0),
                                unanswered=facts.unanswered)
    if concerned:
        down, count = answers[-2], answers[-1]
        if isinstance(down, dict) and (total := _count(count)) is not None:
            series = down.get("series") or []
            checks = tuple(TargetCheck(b, servers, down_servers(servers, series)) for b, servers in concerned.items())
            facts = PrometheusFacts(checks=checks, targets=total, targets_down=int(down.get("series_total") or 0),
                                    firing=facts.firing, pending=facts.pending, unanswered=facts.unanswered)
    return facts

"""Fast tests of the Prometheus pieces that need no Prometheus: the summary and step (pure), the
answers a real Prometheus rarely gives on loopback (422, a proxy's HTML 502, an oversized answer,
NaN), faked at the transport, and the words the story says."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from agent_service.diagnosis.diagnose import diagnose
from agent_service.diagnosis.prometheus import PrometheusFacts, TargetCheck, down_servers, sentences
from agent_service.prometheus.client import PrometheusClient
from agent_service.prometheus.summary import Bounds, range_step
from agent_service.rules.prometheus import ask_prometheus, in_question
from agent_service.rules.recorder import Recorder
from agent_service.tools.base import ToolResult
from agent_service.tools.prometheus import LIST_ALERTS, QUERY_PROMETHEUS, QueryPrometheusTool
from tests.agent.diagnosis.builders import answer, case, scope, stats

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def _tool(handler, *, max_bytes: int = 1 << 20, bounds: Bounds | None = None) -> QueryPrometheusTool:  # type: ignore[no-untyped-def]
    client = PrometheusClient.create("http://prometheus", timeout_s=1, transport=httpx.MockTransport(handler),
                                     max_bytes=max_bytes)
    return QueryPrometheusTool(client, bounds or Bounds())


def test_the_step_is_never_finer_than_the_range_over_max_points() -> None:
    assert range_step(T0, T0 + timedelta(hours=1), 1.0, 240) == 15.0
    assert range_step(T0, T0 + timedelta(hours=1), 60.0, 240) == 60.0  # a coarser step is kept
    assert range_step(T0, T0 + timedelta(seconds=10), None, 240) == 1.0


async def test_an_execution_error_and_a_proxy_page_are_clear_errors() -> None:
    def execution(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"status": "error", "errorType": "execution", "error": "many-to-many matching"})

    def proxy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    refused = await _tool(execution).run({"query": "a / b"})
    page = await _tool(proxy).run({"query": "up"})
    assert refused.status == "error" and refused.error == (
        "Prometheus refused the query (HTTP 422, execution): many-to-many matching")
    assert page.status == "error" and page.error == "HTTP 502 from Prometheus, not an API answer"


async def test_an_oversized_answer_is_refused_not_loaded() -> None:
    series = [{"metric": {"i": str(i)}, "value": [1.0, "1"]} for i in range(2000)]
    body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": series}})

    result = await _tool(lambda r: httpx.Response(200, text=body), max_bytes=10_000).run({"query": "x"})
    assert result.status == "error" and "larger than 10,000 bytes: narrow the query" in (result.error or "")


async def test_non_finite_values_and_warnings_are_kept_as_text() -> None:
    values = [[1767261600.0, "1"], [1767261615.0, "NaN"], [1767261630.0, "3"], [1767261645.0, "+Inf"]]
    body = {"status": "success", "warnings": ["PromQL info: metric might not be a counter"],
            "data": {"resultType": "matrix", "result": [{"metric": {"job": "a"}, "values": values}]}}
    result = await _tool(lambda r: httpx.Response(200, json=body)).run(
        {"query": "rate(x[1m])", "start": "2026-01-01T10:00:00Z", "end": "2026-01-01T10:01:00Z"})
    assert result.status == "ok", result.error
    (series,) = result.data["series"]
    assert series == {"labels": {"job": "a"}, "points": 4, "first_at": "2026-01-01T10:00:00Z",
                      "last_at": "2026-01-01T10:00:45Z", "last": "+Inf", "min": 1.0, "max": 3.0, "mean": 2.0,
                      "non_finite_points": 2}
    assert result.data["warnings"] == ["PromQL info: metric might not be a counter"]
    json.dumps(result.data, allow_nan=False)  # evidence stays valid JSON


def test_a_server_matches_a_down_target_by_label_value_host_or_domain() -> None:
    down = [{"labels": {"instance": "API3.example.net:9100", "job": "node"}}, {"labels": {"host": "web1"}}]
    assert down_servers(("api1", "api3", "web1", "web"), down) == ("api3", "web1")


def test_the_story_says_counts_and_our_names_only() -> None:
    facts = PrometheusFacts(checks=(TargetCheck("be_api", ("s1", "s2"), ("s2",)), TargetCheck("be_web", ("w1",), ())),
                            targets=5, targets_down=2, firing=3, pending=1)
    assert sentences(facts) == [
        "Prometheus agrees: the scrape target of be_api/s2 is down (up == 0).",
        "Prometheus sees 2 of 5 scrape targets down (up == 0), none of them named after be_web's w1: it cannot "
        "confirm this from its side.",
        "Prometheus has 3 alerts firing and 1 pending (list_alerts in the errors finding's evidence).",
    ]
    assert sentences(PrometheusFacts(firing=0, pending=0)) == ["Prometheus has no alert firing."]
    assert sentences(None) == []


async def test_a_prometheus_that_never_answers_is_a_timeout_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        client = PrometheusClient.create(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.3)
        try:
            result = await QueryPrometheusTool(client, Bounds()).run({"query": "up"})
        finally:
            await client.aclose()
    assert result.status == "error" and result.error == "Prometheus did not answer within 0.3 s"


class _Scripted:
    """A tool answering from a script (the real tools are tested against the real Prometheus)."""

    def __init__(self, name: str, answers: dict[str | None, Any]) -> None:
        self.name, self.description, self.input_schema = name, name, {"type": "object"}
        self.answers = answers

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        return ToolResult.ok(self.answers[arguments.get("query")])


async def test_no_server_asks_up_for_every_server_of_the_backend() -> None:
    down = stats(300, e5=300, codes={503: 300}, terms={"SC--": 300})
    raw = answer(scope("site", "", down, stats(3000)), scope("backend", "be_app", down, stats(3000)),
                 scope("server", "be_app/<NOSRV>", down, stats(0)),
                 scope("server", "be_app/a1", stats(0), stats(1500)), scope("server", "be_app/a2", stats(0), stats(1500)))
    diagnosis = diagnose(case(raw), ("errors",))
    assert diagnosis.problems[0].mode == "no_server"
    assert in_question(diagnosis) == {"be_app": ("a1", "a2")}
    rec = Recorder([
        _Scripted(LIST_ALERTS, {None: {"firing": 2, "pending": 0, "alerts": []}}),
        _Scripted(QUERY_PROMETHEUS, {
            "up == 0": {"series_total": 2, "series": [{"labels": {"instance": "a1:9100"}}, {"labels": {"instance": "a2:9100"}}]},
            "count(up)": {"series_total": 1, "series": [{"labels": {}, "value": 7.0}]}}),
    ])
    facts = await ask_prometheus(rec, diagnosis, at=T0)
    assert facts == PrometheusFacts(checks=(TargetCheck("be_app", ("a1", "a2"), ("a1", "a2")),), targets=7,
                                    targets_down=2, firing=2, pending=0)
    assert sentences(facts)[0] == "Prometheus agrees: the scrape targets of be_app's servers a1 and a2 are down (up == 0)."
    assert [e.tool for e in rec.evidence] == [LIST_ALERTS, QUERY_PROMETHEUS, QUERY_PROMETHEUS]
    assert await ask_prometheus(Recorder([]), diagnosis, at=T0) is None  # not configured: not asked

"""Proposals validated the same way whichever engine made them: typed by `type`, the backend and
server must exist in the analysed data (else dropped, with a log line), ids given here,
`executable_here` only for runtime actions and only when a Runtime API socket is configured."""

from __future__ import annotations

import logging

import pytest

from agent_service.models import Evidence, Finding
from agent_service.remediation.validate import known_names, validate_proposals

BREAKDOWN = {"scopes": [
    {"kind": "backend", "name": "be_api", "backend": "be_api", "server": None},
    {"kind": "server", "name": "be_api/api1", "backend": "be_api", "server": "api1"},
    {"kind": "server", "name": "be_api/<NOSRV>", "backend": "be_api", "server": "<NOSRV>"},
]}
BACKENDS = {"backends": [{"name": "be_web", "servers": [{"name": "w1"}, {"name": "w2"}]}]}
FINDINGS = [Finding(specialist="errors", evidence=[Evidence(tool="get_breakdown", result=BREAKDOWN)]),
            Finding(specialist="latency", evidence=[Evidence(tool="get_backends", result=BACKENDS)])]


def test_names_come_from_the_breakdown_and_the_backends_answer() -> None:
    known = known_names(FINDINGS)
    assert known.backends == {"be_api", "be_web"}
    assert known.servers == {("be_api", "api1"), ("be_web", "w1"), ("be_web", "w2")}


def test_unknown_servers_and_backends_are_dropped_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    raw = [{"type": "drain_server", "backend": "be_api", "server": "api9"},
           {"type": "scale_out", "backend": "be_nope"},
           {"type": "drain_server", "backend": "be_api", "server": "<NOSRV>"},
           {"type": "set_server_weight", "backend": "be_web", "server": "w2", "weight": 10},
           {"type": "reboot_everything", "backend": "be_api"},
           {"type": "set_maxconn", "backend": "be_web", "server": "w1", "maxconn": -3}]
    with caplog.at_level(logging.WARNING):
        kept = validate_proposals(raw, known_names(FINDINGS), runtime=True)
    assert [(p.type, p.id) for p in kept] == [("set_server_weight", "p1")]
    assert "api9" in caplog.text and "be_nope" in caplog.text and "not a valid proposal" in caplog.text


def test_executable_here_only_for_runtime_actions_with_a_socket() -> None:
    raw = [{"type": "drain_server", "backend": "be_api", "server": "api1", "executable_here": False, "id": "x"},
           {"type": "rollback", "backend": "be_api", "from_version": "v2", "executable_here": True},
           {"type": "escalate", "to": "payments team", "why": "no owner on call"}]
    with_socket = validate_proposals(raw, known_names(FINDINGS), runtime=True)
    assert [(p.id, p.type, p.executable_here) for p in with_socket] == [
        ("p1", "drain_server", True), ("p2", "rollback", False), ("p3", "escalate", False)]
    without = validate_proposals(raw, known_names(FINDINGS), runtime=False)
    assert not any(p.executable_here for p in without)


def test_a_name_that_could_smuggle_a_second_runtime_command_is_refused() -> None:
    raw = [{"type": "drain_server", "backend": "be_api", "server": "api1; shutdown sessions"},
           {"type": "drain_server", "backend": "be_api\nset", "server": "api1"}]
    assert validate_proposals(raw, known_names(FINDINGS), runtime=True) == []


def test_the_same_action_twice_is_kept_once_and_a_rate_limit_names_what_it_limits() -> None:
    raw = [{"type": "drain_server", "backend": "be_api", "server": "api1"},
           {"type": "drain_server", "backend": "be_api", "server": "api1", "evidence": ["again"]},
           {"type": "rate_limit", "backend": "be_api"},
           {"type": "rate_limit", "backend": "be_api", "path": "/search"}]
    kept = validate_proposals(raw, known_names(FINDINGS), runtime=False)
    assert [p.type for p in kept] == ["drain_server", "rate_limit"]

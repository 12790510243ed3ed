"""The Runtime API pieces that need no HAProxy: HAPROXY_RUNTIME_SOCKETS parsing (bad entries fail
start-up), the previous values read from HAProxy 2.6's answers, the commands and their inverses,
and the markdown report's list of proposed actions (outside text escaped)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent_service.models import IncidentReport
from agent_service.remediation.haproxy import parse_sockets
from agent_service.remediation.models import DrainServer, Escalate, Risk, SetMaxconn, SetServerWeight
from agent_service.remediation.runtime_commands import RuntimeAnswerError, admin_state, plan, server_maxconn, weight
from agent_service.report.markdown import render
from tests.agent.helpers import settings

STATE = """1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change
3 be_app 1 s1 127.0.0.1 2 0 10 10 0
3 be_app 2 s2 127.0.0.1 2 8 10 10 0
3 be_app 3 s3 127.0.0.1 2 1 10 10 0
"""
STAT = """# pxname,svname,qcur,qmax,scur,smax,slim,stot
be_app,s1,0,0,0,0,50,0
be_app,s2,0,0,0,0,,0
be_app,BACKEND,0,0,0,0,999,0
"""


def test_sockets_are_unix_or_tcp_optionally_named_and_a_bad_entry_is_refused() -> None:
    parsed = parse_sockets(" unix:/run/haproxy/admin.sock , lb2=tcp:10.0.0.5:9999,tcp:[::1]:9999")
    assert [(s.label, s.kind, s.path or f"{s.host}:{s.port}") for s in parsed] == [
        ("unix:/run/haproxy/admin.sock", "unix", "/run/haproxy/admin.sock"),
        ("lb2=tcp:10.0.0.5:9999", "tcp", "10.0.0.5:9999"),
        ("tcp:[::1]:9999", "tcp", "::1:9999")]
    assert parse_sockets("") == []
    for bad in ("tcp:host", "udp:1.2.3.4:9", "unix:relative.sock", "tcp:1.2.3.4:70000", "a b=tcp:1.2.3.4:9",
                "tcp:1.2.3.4:9,tcp:1.2.3.4:9"):
        with pytest.raises(ValueError, match="HAPROXY_RUNTIME_SOCKETS"):
            parse_sockets(bad)
    with pytest.raises(ValidationError, match="HAPROXY_RUNTIME_SOCKETS"):
        settings(haproxy_runtime_sockets="tcp:nowhere")


def test_previous_values_are_read_from_haproxys_answers() -> None:
    assert [admin_state(STATE, "be_app", s) for s in ("s1", "s2", "s3")] == ["ready", "drain", "maint"]
    assert weight("12 (initial 10)\n\n") == "12"
    assert server_maxconn(STAT, "be_app", "s1") == "50" and server_maxconn(STAT, "be_app", "s2") == "0"
    with pytest.raises(RuntimeAnswerError, match="be_app/s9"):
        admin_state(STATE, "be_app", "s9")
    with pytest.raises(RuntimeAnswerError, match="No such server"):
        weight("No such server.\n")
    with pytest.raises(RuntimeAnswerError):
        server_maxconn("Unknown command.\n", "be_app", "s1")


def test_each_runtime_proposal_has_its_command_and_inverse_and_the_others_none() -> None:
    drain = plan(DrainServer(backend="be", server="s1"))
    w = plan(SetServerWeight(backend="be", server="s1", weight=0))
    m = plan(SetMaxconn(backend="be", server="s1", maxconn=20))
    assert drain and w and m
    assert (drain.read, drain.send, drain.inverse("maint")) == (
        "show servers state be", "set server be/s1 state drain", "set server be/s1 state maint")
    assert (w.read, w.send, w.inverse("7")) == ("get weight be/s1", "set server be/s1 weight 0", "set server be/s1 weight 7")
    assert (m.read, m.send, m.inverse("0")) == ("show stat be 4 -1", "set maxconn server be/s1 20", "set maxconn server be/s1 0")
    assert plan(Escalate(to="db team", why="x")) is None


def test_the_markdown_report_lists_the_proposed_actions_escaped() -> None:
    report = IncidentReport.model_validate({
        "id": "r", "created_at": "2026-12-02T14:00:00Z", "window": {"start": "2026-12-02T13:50:00Z",
        "end": "2026-12-02T14:00:00Z", "seconds": 600}, "scope": {}, "overall_severity": "critical", "title": "t",
        "diagnosis": "d", "findings": [], "engine": {"kind": "rules"},
        "proposals": [DrainServer(id="p1", backend="be_api", server="api3", risk=Risk(level="low"), executable_here=True,
                                  undo={"how": "ready **again**"}).model_dump()]})
    text = render(report)
    assert "## Proposed actions (each needs an approval)" in text
    assert "- **p1** drain_server be_api/api3 — risk low; executable here; undo: ready \\*\\*again\\*\\*" in text

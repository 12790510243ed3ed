from __future__ import annotations

import subprocess  # nosec B404 - the real haproxy binary checks the edited config
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_service.remediation.github import ServerChange, ServerLineNotFound, edit_server
from tests.agent.remediation.github.helpers import CONFIG, changed_lines
from tests.support.binaries import require_binary


def test_weight_of_one_server_is_a_one_line_diff() -> None:
    after = edit_server(CONFIG, backend="be_app", server="app1", change=ServerChange(weight=0))
    assert changed_lines(CONFIG, after) == [
        "-    server app1 127.0.0.1:9001 check weight 100   # primary",
        "+    server app1 127.0.0.1:9001 check weight 0   # primary",
    ]


def test_the_same_server_name_in_another_backend_is_left_alone() -> None:
    after = edit_server(CONFIG, backend="be_search", server="app1", change=ServerChange(weight=5))
    assert changed_lines(CONFIG, after) == ["-    server app1 127.0.0.1:9101 check weight 50",
                                            "+    server app1 127.0.0.1:9101 check weight 5"]


def test_maxconn_and_disabled_are_added_or_removed_in_place() -> None:
    drained = edit_server(CONFIG, backend="be_app", server="app3", change=ServerChange(maxconn=10, disabled=True))
    assert changed_lines(CONFIG, drained) == ["-    server app3\t127.0.0.1:9003",
                                              "+    server app3\t127.0.0.1:9003 maxconn 10 disabled"]
    enabled = edit_server(CONFIG, backend="be_app", server="app2", change=ServerChange(disabled=False, maxconn=60))
    assert changed_lines(CONFIG, enabled) == ["-    server app2 127.0.0.1:9002 check maxconn 30 disabled",
                                              "+    server app2 127.0.0.1:9002 check maxconn 60"]


def test_crlf_endings_and_a_missing_final_newline_are_kept() -> None:
    text = "backend be_app\r\n    server app1 10.0.0.1:80 weight 3\r\n    server app2 10.0.0.2:80"
    after = edit_server(text, backend="be_app", server="app2", change=ServerChange(weight=7))
    assert after == "backend be_app\r\n    server app1 10.0.0.1:80 weight 3\r\n    server app2 10.0.0.2:80 weight 7"


def test_a_server_called_weight_keeps_its_address() -> None:
    text = "listen be_odd\n    server weight 10.0.0.9:80 weight 2\n"
    after = edit_server(text, backend="be_odd", server="weight", change=ServerChange(weight=9))
    assert after == "listen be_odd\n    server weight 10.0.0.9:80 weight 9\n"


@pytest.mark.parametrize(("backend", "server"), [("be_app", "app9"), ("be_none", "app1"), ("fe_main", "app1")])
def test_refuses_when_the_server_line_is_not_there(backend: str, server: str) -> None:
    with pytest.raises(ServerLineNotFound, match="not found"):
        edit_server(CONFIG, backend=backend, server=server, change=ServerChange(weight=1))


def test_refuses_a_server_line_found_twice() -> None:
    text = "backend be_app\n  server a 1.1.1.1:1\n  server a 1.1.1.2:1\n"
    with pytest.raises(ServerLineNotFound, match="2 times"):
        edit_server(text, backend="be_app", server="a", change=ServerChange(weight=1))


_noise = st.lists(st.sampled_from(["    option httpchk", "    # server app1 commented 1.1.1.1:1", "",
                                   "    timeout server 5s", "    http-request deny if { path /x }"]), max_size=6)


@given(before=_noise, after=_noise, weight=st.integers(0, 256))
def test_only_the_server_line_ever_changes(before: list[str], after: list[str], weight: int) -> None:
    text = "\n".join(["backend be_app", *before, "    server app1 127.0.0.1:1 check", *after, ""])
    edited = edit_server(text, backend="be_app", server="app1", change=ServerChange(weight=weight))
    assert changed_lines(text, edited) == ["-    server app1 127.0.0.1:1 check",
                                           f"+    server app1 127.0.0.1:1 check weight {weight}"]


def test_disabling_drops_an_explicit_enabled() -> None:
    text = "backend be_app\n    server a 10.0.0.1:80 enabled check\n"
    after = edit_server(text, backend="be_app", server="a", change=ServerChange(disabled=True))
    assert after == "backend be_app\n    server a 10.0.0.1:80 check disabled\n"


@pytest.mark.real
@pytest.mark.parametrize("change", [ServerChange(weight=0), ServerChange(maxconn=5, disabled=True),
                                    ServerChange(disabled=False, weight=256)])
def test_the_edited_config_is_valid_for_the_real_haproxy(tmp_path: Path, change: ServerChange) -> None:
    haproxy = require_binary("haproxy")
    config = tmp_path / "haproxy.cfg"
    for server in ("app1", "app2", "app3"):
        config.write_text(edit_server(CONFIG, backend="be_app", server=server, change=change))
        checked = subprocess.run([haproxy, "-c", "-q", "-f", str(config)], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
    config.write_text(CONFIG.replace("weight 100", "weight 300"))  # and the check does refuse a bad one
    assert subprocess.run([haproxy, "-c", "-q", "-f", str(config)], capture_output=True, timeout=30).returncode != 0

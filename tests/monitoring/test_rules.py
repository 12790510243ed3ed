"""Prometheus and Alertmanager configuration checked by the real promtool and amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.binaries import require_binary

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "monitoring"
RULES = MONITORING / "alert-rules.yml"
RULE_TESTS = sorted((MONITORING / "tests").glob("*.yml"))

pytestmark = pytest.mark.real


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=MONITORING, check=False)


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_check_config_and_rules() -> None:
    promtool = require_binary("promtool")
    result = run(promtool, "check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    result = run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", RULE_TESTS, ids=lambda p: p.name)
def test_promtool_rule_unit_tests(test_file: Path) -> None:
    result = run(require_binary("promtool"), "test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_unit_test() -> None:
    firing: set[str] = set()
    for test_file in RULE_TESTS:
        for case in yaml.safe_load(test_file.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    firing.add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - firing == set(), "alerts without a unit test that makes them fire"
    assert firing - names == set(), "unit tests for alerts that do not exist"


def test_every_alert_has_severity_and_per_backend_alerts_keep_the_backend_label() -> None:
    for rule in alert_rules():
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        if rule["alert"] == "Watchdog":
            continue  # severity none, no backend: test_watchdog_always_fires_and_reaches_the_agent
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        if "component" not in rule["labels"]:
            # the agent scopes its analysis by `backend`: the expression must keep that label
            assert "by (backend" in rule["expr"] or "backend:oncall" in rule["expr"], rule["alert"]


@pytest.mark.parametrize(("slo", "budget"), [("Availability", "0.001"), ("Latency", "0.01")])
def test_slo_alerts_page_and_ticket(slo: str, budget: str) -> None:
    """The SRE workbook's windows and factors (chapter 5, multiwindow, multi-burn-rate alerts)."""
    rules = {rule["alert"]: rule for rule in alert_rules()}
    fast, slow = rules[f"{slo}ErrorBudgetBurnFast"], rules[f"{slo}ErrorBudgetBurnSlow"]
    assert fast["labels"]["urgency"] == "page" and slow["labels"]["urgency"] == "ticket"
    assert fast["labels"]["severity"] == "critical" and slow["labels"]["severity"] == "warning"
    for window, factor in (("1h", "14.4"), ("5m", "14.4"), ("6h", "6"), ("30m", "6")):
        assert f"ratio_rate{window} > ({factor} * {budget})" in fast["expr"]
    for window, factor in (("1d", f"(3 * {budget})"), ("2h", f"(3 * {budget})"), ("3d", budget), ("6h", budget)):
        assert f"ratio_rate{window} > {factor}" in slow["expr"]


def test_e2e_golden_signals_group_keeps_only_the_symptom_alerts() -> None:
    """tests/e2e runs a copy of this group against the real chain and expects one incident from
    High5xxRate: the HAProxy cause alerts (which also fire on that outage) live in their own group."""
    groups = {group["name"]: group for group in yaml.safe_load(RULES.read_text())["groups"]}
    golden = {rule["alert"] for rule in groups["golden-signals"]["rules"]}
    assert golden == {"HighP99Latency", "High5xxRate", "High4xxRate", "TrafficDroppedToZero",
                      "HAProxyRequestsQueued", "HAProxyQueueDepthHigh", "RedisMemoryHigh"}
    assert {rule["alert"] for rule in groups["haproxy"]["rules"]} == {
        "ServerHigh5xxRate", "BackendNoServerAvailable", "BackendConnectionErrors", "BackendServerTimeouts",
        "BackendRetriesHigh"}


def test_watchdog_always_fires_and_reaches_the_agent() -> None:
    """The contract with the agent: alertname Watchdog, label severity=none, re-sent every 5m."""
    (watchdog,) = [rule for rule in alert_rules() if rule["alert"] == "Watchdog"]
    assert watchdog["expr"] == "vector(1)" and "for" not in watchdog
    assert watchdog["labels"] == {"severity": "none"}
    config = yaml.safe_load((MONITORING / "alertmanager.yml").read_text())
    route = config["route"]["routes"][0]  # first: no other route may catch it
    assert route == {"receiver": "oncall-agent", "matchers": ['alertname="Watchdog"'], "group_by": ["alertname"],
                     "group_wait": "0s", "group_interval": "1m", "repeat_interval": "5m"}
    assert route.get("continue", False) is False  # not mailed as well
    result = run(require_binary("amtool"), "config", "routes", "test", "--config.file=alertmanager.yml",
                 "--verify.receivers=oncall-agent", "alertname=Watchdog", "severity=none")
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_check_config() -> None:
    result = run(require_binary("amtool"), "check-config", "alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_alertmanager_posts_to_the_agent_with_a_bearer_token_file() -> None:
    config = yaml.safe_load((MONITORING / "alertmanager.yml").read_text())
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    assert config["route"]["receiver"] == "oncall-agent"
    assert config["route"]["group_by"] == ["backend"]
    (webhook,) = receivers["oncall-agent"]["webhook_configs"]
    assert webhook["url"].endswith("/alerts")
    assert webhook["send_resolved"] is True
    auth = webhook["http_config"]["authorization"]
    assert auth["type"] == "Bearer" and auth["credentials_file"] == "/run/secrets/alerts_token"
    assert "credentials" not in auth  # never a token in the repository


def test_every_alert_links_a_shipped_runbook_that_names_it() -> None:
    from agent_service.runbooks.parse import parse_runbook

    for rule in alert_rules():
        url = rule["annotations"].get("runbook_url", "")
        assert url.startswith("monitoring/runbooks/") and url.endswith(".md"), rule["alert"]
        path = REPO / url
        assert path.is_file(), url
        book = parse_runbook(path.read_text(), file=url)
        assert rule["alert"] in book.alerts, url
        assert {"What it means", "First checks", "Actions"} <= {s.heading for s in book.sections}, url

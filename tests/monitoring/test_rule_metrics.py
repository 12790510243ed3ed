"""Every metric a rule reads is one the services really export (a misspelt name in a rule never
fires and no promtool test notices): the names are read from each service's own
/prometheus/metrics, built by its create_app, not from the documentation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from agent_service.app import create_app as agent_app
from agent_service.settings import Settings as AgentSettings
from ingestion_service.app import create_app as ingestion_app
from ingestion_service.settings import Settings as IngestionSettings
from notifier_service.app import create_app as notifier_app
from notifier_service.settings import Settings as NotifierSettings

RULES = Path(__file__).resolve().parents[2] / "monitoring" / "alert-rules.yml"

# Read by rules, not exported yet: each is asked of ingestion-service (issue 13). Remove a name
# once ingestion exports it; the test keeps the list to names the rules still use.
PENDING: set[str] = set()
_NAME = re.compile(r"(?<![\w:])((?:oncall|http)_[a-z0-9_]+)")
_HISTOGRAM_SERIES = re.compile(r"_(bucket|count|sum)$")


def rule_metric_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {name for group in groups for rule in group["rules"] for name in _NAME.findall(rule["expr"])}


async def exported(app: FastAPI) -> dict[str, str]:
    """Metric family → type, from the exposition's `# TYPE` lines (present even without samples)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/prometheus/metrics")
    assert response.status_code == 200
    return {line.split()[2]: line.split()[3] for line in response.text.splitlines() if line.startswith("# TYPE ")}


@pytest.fixture
async def families(fake_redis: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for app in (ingestion_app(IngestionSettings(), redis=fake_redis),
                agent_app(AgentSettings(llm_engine="rules"), redis=fake_redis),
                notifier_app(NotifierSettings(), redis=fake_redis)):
        found.update(await exported(app))
    return found


def test_rules_read_only_exported_metrics(families: dict[str, str]) -> None:
    missing = set()
    for name in rule_metric_names():
        base = _HISTOGRAM_SERIES.sub("", name)
        if name in families or families.get(base) == "histogram":
            continue
        missing.add(name)
    assert missing - PENDING == set(), "rules read metrics no service exports"
    assert PENDING <= rule_metric_names(), "PENDING lists a metric no rule reads any more"
    assert families["oncall_haproxy_terminations_total"] == "counter" and families["oncall_redis_up"] == "gauge"
    assert "oncall_requests_total" in families and families["oncall_request_duration_seconds"] == "histogram"

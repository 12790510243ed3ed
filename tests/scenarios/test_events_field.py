"""The scenario format's `events:` (changes POSTed to /events before the analysis): offsets like
phases, checked against the scenario's duration and backends, turned into POST /events bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from tests.scenarios.model import SCENARIO_DIR, Scenario, load_scenario


def test_an_event_offset_becomes_its_time_and_is_checked() -> None:
    scenario = load_scenario(SCENARIO_DIR / "search-deploy-then-regression.yaml")
    deploy = next(e for e in scenario.events if e.id == "search-v2.3.1")
    assert deploy.at == 660
    body = deploy.body(start=1_800_000_000.0)
    assert body["at"] == datetime.fromtimestamp(1_800_000_660, tz=UTC).isoformat()
    assert (body["kind"], body["backend"], body["version"], body["by"]) == ("deploy", "be_search", "v2.3.1", "alice")
    raw = scenario.model_dump()
    for bad in ({"id": "late", "at": "25m", "backend": "be_search"}, {"id": "nowhere", "at": "1m", "backend": "be_x"}):
        with pytest.raises(ValidationError, match=bad["id"]):
            Scenario.model_validate({**raw, "events": [bad]})

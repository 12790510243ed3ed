"""Windows parsed, formatted and turned into the report's Window in one place (window.py); tool
input schemas derived from the tools' pydantic argument models (tools/schema.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent_service.incidents.memory import SearchArgs, SearchPastIncidentsTool
from agent_service.tools.ingestion import RpsArgs
from agent_service.tools.schema import input_schema
from agent_service.window import WINDOW_PATTERN, incident_window, report_window, window_minutes

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_window_text_to_minutes() -> None:
    assert window_minutes("15m") == 15
    assert window_minutes("2h") == 120


def test_report_window_ends_at_end_and_reads_naive_as_utc() -> None:
    window = report_window("15m", datetime(2026, 1, 1, 12, 0))
    assert window.end == NOW and window.start == NOW - timedelta(minutes=15) and window.seconds == 900
    assert report_window("1h", None, now=NOW).start == NOW - timedelta(hours=1)


def test_incident_window_reaches_back_before_the_alert_within_5m_and_24h() -> None:
    assert incident_window(None, NOW) == "15m"  # opened by hand: as POST /analyze
    assert incident_window(NOW - timedelta(minutes=10), NOW) == "16m"
    assert incident_window(NOW, NOW) == "6m"
    assert incident_window(NOW - timedelta(minutes=1), NOW - timedelta(minutes=1)) == "6m"
    assert incident_window(NOW - timedelta(days=3), NOW) == "1440m"


def test_ingestion_tool_schema_comes_from_its_argument_model() -> None:
    schema = input_schema(RpsArgs)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert "required" not in schema  # every argument defaults to the analysis's
    props = schema["properties"]
    assert set(props) == set(RpsArgs.model_fields) == {"window", "end", "backend", "frontend", "minutes"}
    assert props["window"]["type"] == "string" and props["window"]["pattern"] == WINDOW_PATTERN
    assert props["end"] == {"type": "string", "format": "date-time", "description": props["end"]["description"]}
    assert props["minutes"]["minimum"] == 1 and props["minutes"]["maximum"] == 1440
    assert all("title" not in p and "anyOf" not in p for p in props.values())


def test_search_tool_schema_and_validation_share_one_model() -> None:
    schema = SearchPastIncidentsTool.input_schema
    assert schema == input_schema(SearchArgs)
    assert schema["required"] == ["query"]
    assert schema["properties"]["limit"] == {"type": "integer", "minimum": 1, "maximum": 10, "default": 3}

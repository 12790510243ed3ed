"""Grounding: numbers stated in summaries and the diagnosis must come from the evidence."""

from __future__ import annotations

import pytest

from agent_service.grounding import claims, ungrounded
from agent_service.models import Evidence, Finding


def finding(summary: str, result: object, arguments: dict | None = None, status: str = "completed") -> Finding:
    return Finding(
        specialist="latency",
        severity="warning",
        status=status,  # type: ignore[arg-type]
        summary=summary,
        evidence=[Evidence(tool="get_response_times", arguments=arguments or {"window": "15m"}, result=result)],
    )


RESULT = {"count": 12345, "p95_ms": 1449.6, "p99_ms": 2380.0, "error_rate_5xx_pct": 12.34,
          "status_codes": {"503": 40}, "series": [{"minute": "2026-01-01T10:00:00Z", "requests": 0}]}


@pytest.mark.parametrize(
    "text",
    [
        "p95 is 1450 ms over 12,345 requests",
        "p95 1449.6 ms",
        "p99 2.38 s",
        "p99 2.4 s",
        "5xx rate 12.3%",
        "5xx rate 12%",
        "503 × 40 in the last 15m",
        "traffic fell to 0",
        "about 12k requests",
        "since 10:00 on 2026-01-01",
        "backend be_app2 and api-v3 are fine; 5xx and 4xx",
    ],
)
def test_grounded_statements(text: str) -> None:
    assert ungrounded([finding(text, RESULT)], "") == []


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("p95 is 1500 ms", "1500 ms"),
        ("5xx rate 12.5%", "12.5%"),
        ("p99 2.5 s", "2.5 s"),
        ("31 backends", "31"),
    ],
)
def test_made_up_numbers_are_listed(text: str, claim: str) -> None:
    assert ungrounded([finding(text, RESULT)], "") == [f"latency summary: {claim}"]


def test_diagnosis_is_checked_against_every_findings_evidence_and_thresholds() -> None:
    findings = [finding("p95 1450 ms", RESULT), finding("ok", {"queued_requests": 77})]
    assert ungrounded(findings, "77 requests queued, p95 1450 ms above 500 ms", extra=[500]) == []
    assert ungrounded(findings, "78 requests queued", extra=[500]) == ["diagnosis: 78"]


def test_failed_findings_summaries_are_not_claims() -> None:
    assert ungrounded([finding("timed out after 30 s", {}, status="timed_out")], "") == []


def test_claims_parse_units_and_separators() -> None:
    assert [(c[1], c[2], c[3]) for c in claims("1,234.5 ms, 3 s, 12.25%, 7k")] == [
        (1234.5, 1, "ms"), (3.0, 0, "s"), (12.25, 2, "%"), (7.0, 0, "k")
    ]


def test_numbers_of_failure_reasons_may_be_quoted() -> None:
    failed = Finding(specialist="errors", status="timed_out", error="no answer within the 60 s deadline")
    diagnosis = "The errors specialist did not finish (timed_out): no answer within the 60 s deadline."
    assert ungrounded([failed], diagnosis) == []

"""Backoff, settings from the environment and request validation (pure)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from notifier_service.backoff import backoff_delay
from notifier_service.models import NotifyRequest
from notifier_service.settings import Settings


@given(st.integers(min_value=1, max_value=200), st.floats(0.01, 10), st.floats(10, 1000))
def test_backoff_grows_with_jitter_inside_bounds(attempt: int, base: float, cap: float) -> None:
    delay = backoff_delay(attempt, base=base, cap=cap, rng=random.Random(attempt))
    ceiling = min(cap, base * 2 ** (attempt - 1))
    assert ceiling / 2 <= delay <= ceiling


def test_backoff_spreads_retries() -> None:
    delays = {round(backoff_delay(4, base=1, cap=60), 6) for _ in range(50)}
    assert len(delays) > 40 and all(4 <= d <= 8 for d in delays)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "EMAIL_TO_WARNING", "SMTP_USERNAME", "SMTP_PASSWORD", "MESSAGE_ID_DOMAIN", "SMTP_TLS"):
        monkeypatch.delenv(name, raising=False)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMAIL_TO", "a@example.com, B@example.com ,a@example.com")
    monkeypatch.setenv("EMAIL_TO_CRITICAL", "pager@example.com")
    monkeypatch.setenv("SMTP_TLS", "starttls")
    monkeypatch.setenv("EMAIL_FROM", "copilot@oncall.example")
    s = Settings()
    assert s.port == 8002 and s.smtp_tls == "starttls"
    assert s.email_to == ["a@example.com", "B@example.com"]
    assert s.recipients_for("critical") == ["pager@example.com"]
    assert s.recipients_for("warning") == s.recipients_for("ok") == ["a@example.com", "B@example.com"]
    assert s.thread_domain == "oncall.example"


@pytest.mark.parametrize(
    "env",
    [{"SMTP_TLS": "tls"}, {"EMAIL_TO": "not-an-address"}, {"EMAIL_TO": " , "}, {"SMTP_USERNAME": "only-user"}],
)
def test_bad_settings_fail_fast(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError):
        Settings()


def test_request_normalises_and_rejects() -> None:
    ok = NotifyRequest(incident_id=12, event="Opened", severity="CRITICAL", title=" t ", to="a@example.com,b@example.com")
    assert (ok.incident_id, ok.event, ok.severity, ok.title, ok.to) == ("12", "opened", "critical", "t", ["a@example.com", "b@example.com"])
    for bad in (
        {"incident_id": True}, {"incident_id": "a b"}, {"url": "ftp://x"}, {"idempotency_key": "has space"},
        {"to": [f"u{i}@example.com" for i in range(21)]},
    ):
        with pytest.raises(ValidationError):
            NotifyRequest(**{"incident_id": 1, "event": "opened", "title": "t", **bad})

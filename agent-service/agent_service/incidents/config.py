"""How the incident service carries out its actions (built from Settings in app.py)."""

from __future__ import annotations

from dataclasses import dataclass

from agent_service.incidents.impact import BadThresholds
from agent_service.incidents.notify_retry import RetryPolicy

LOCK_TTL_S = 15.0


@dataclass(frozen=True)
class ServiceConfig:
    bad_minute: BadThresholds
    public_url: str = "http://127.0.0.1:8001"
    analysis_timeout_s: float = 180.0
    alert_lookback_s: float = 900.0  # the baseline ends this long before the alert's startsAt
    analysis_slot_wait_s: float = 60.0  # then run over MAX_ANALYSES rather than drop an alert's analysis
    lock_ttl_s: float = LOCK_TTL_S  # a crashed drainer frees its incident within this
    quiet_minutes: float = 0.0
    notify_retry: RetryPolicy = RetryPolicy()

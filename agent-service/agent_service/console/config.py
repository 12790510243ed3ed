"""What the console needs from the agent's settings, decided once at start-up."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from agent_service.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsoleConfig:
    secret: bytes
    session_ttl_s: int
    secure_cookie: bool
    login_max_attempts: int
    login_window_s: int
    ask_timeout_s: float  # an "Ask the copilot" analysis, like an incident's
    error_5xx_warning_pct: float  # the golden-signals charts turn red past these
    latency_p95_warning_ms: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsoleConfig:
        if settings.console_secret:
            secret = settings.console_secret.encode()
        else:
            secret = secrets.token_bytes(32)
            log.warning("CONSOLE_SECRET is not set: console sessions are signed with a random key of this "
                        "process and end when it stops (set CONSOLE_SECRET for a real deployment)")
        return cls(secret=secret, session_ttl_s=settings.console_session_ttl_s,
                   secure_cookie=settings.public_url.startswith("https://"),
                   login_max_attempts=settings.console_login_max_attempts,
                   login_window_s=settings.console_login_window_s,
                   ask_timeout_s=settings.incident_analysis_timeout_s,
                   error_5xx_warning_pct=settings.error_5xx_warning_pct,
                   latency_p95_warning_ms=settings.latency_p95_warning_ms)

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from oncall_common.settings import ServiceSettings

from agent_service.prices import ModelPrice
from agent_service.remediation.haproxy import parse_sockets

_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+$")


class Settings(ServiceSettings):
    port: int = Field(default=8001, ge=1, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    ingestion_url: str = "http://127.0.0.1:8000"
    # Sent as `Authorization: Bearer …` on every ingestion query (its READ_TOKEN or INGEST_TOKEN).
    ingestion_read_token: str | None = None
    notifier_url: str = "http://127.0.0.1:8002"
    llm_engine: Literal["auto", "anthropic", "rules", "openai"] = "auto"
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    specialist_model: str = "claude-haiku-4-5"
    synthesis_model: str = "claude-sonnet-4-6"
    # LLM_ENGINE=openai: an OpenAI-compatible chat-completions server (Ollama http://host:11434/v1,
    # vLLM, llama.cpp, LM Studio, hosted); OPENAI_SYNTHESIS_MODEL defaults to the specialist model.
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_specialist_model: str | None = None
    openai_synthesis_model: str | None = None
    openai_supports_tools: bool = True  # false: the finding is asked for as JSON (no tool calls)
    api_token: str | None = None
    alerts_token: str | None = None

    # Thresholds (the defaults; every one settable from the environment).
    latency_p95_warning_ms: float = Field(default=500.0, gt=0)
    latency_p99_critical_ms: float = Field(default=1000.0, gt=0)
    error_5xx_warning_pct: float = Field(default=5.0, gt=0, le=100)
    error_5xx_critical_pct: float = Field(default=10.0, gt=0, le=100)
    error_4xx_warning_pct: float = Field(default=20.0, gt=0, le=100)
    redis_memory_warning_pct: float = Field(default=80.0, gt=0, le=100)
    traffic_drop_critical_pct: float = Field(default=80.0, gt=0, le=100)
    # growth over the baseline's rate: 100 = twice the usual traffic (and beyond the baseline's busiest span)
    traffic_surge_warning_pct: float = Field(default=100.0, gt=0)
    # Sustained queueing: at least this share of the window's requests waited in a queue.
    queue_warning_pct: float = Field(default=5.0, gt=0, le=100)
    # Below this many requests a rate (5xx %, p99) is noise and not judged.
    min_requests: int = Field(default=20, ge=1)

    # Analyses.
    max_analyses: int = Field(default=4, ge=1, le=256)
    specialist_deadline_s: float = Field(default=60.0, gt=0, le=600)
    synthesis_deadline_s: float = Field(default=60.0, gt=0, le=600)
    report_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)
    ingestion_timeout_s: float = Field(default=5.0, gt=0, le=120)
    tool_result_max_chars: int = Field(default=16_000, ge=1_000)
    # Prometheus (unset = off): the query_prometheus and list_alerts tools, and the rules engine's
    # `up` and firing-alerts context. A query returns at most PROMETHEUS_MAX_SERIES series; a range
    # query's step is widened to at most PROMETHEUS_MAX_POINTS points per series.
    prometheus_url: str | None = None
    prometheus_timeout_s: float = Field(default=5.0, gt=0, le=60)
    prometheus_max_series: int = Field(default=20, ge=1, le=500)
    prometheus_max_points: int = Field(default=240, ge=10, le=11_000)

    # --- Alert intake and incidents (agent_service/incidents) ---
    notifier_token: str | None = None
    notifier_timeout_s: float = Field(default=5.0, gt=0, le=60)
    public_url: str = "http://127.0.0.1:8001"  # base of incident links in notifications
    auto_resolve_quiet_minutes: float = Field(default=0.0, ge=0)  # 0 = RESOLVED only by a human
    alert_dedup_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)
    # One Alertmanager delivery at most this big (413 beyond; labels/annotations are cut at 4 KiB each).
    alerts_max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024, le=10 * 1024 * 1024)
    alert_claim_idle_s: float = Field(default=60.0, gt=0)  # re-claim a crashed worker's entries after
    alert_worker_enabled: bool = True
    # The dead man's switch: the always-firing alert of this name is a heartbeat, never an
    # incident; when none arrives for WATCHDOG_TIMEOUT_S (0 = off) the agent pages by itself.
    watchdog_alertname: str = Field(default="Watchdog", max_length=200)
    watchdog_timeout_s: float = Field(default=900.0, ge=0)
    incident_analysis_timeout_s: float = Field(default=180.0, gt=0, le=1800)
    # An alert fires this long after its problem began (the rule's range plus its `for`): an
    # incident's analysis compares the window with the hour before startsAt minus this.
    alert_lookback_s: float = Field(default=900.0, ge=0, le=86400)
    # An incident's analysis waits this long for one of the MAX_ANALYSES slots, then runs over the
    # limit (and says so on the timeline) rather than being dropped.
    incident_analysis_slot_wait_s: float = Field(default=60.0, ge=0, le=1800)
    # Notifier unreachable, timing out or answering 5xx/429: the notification stays pending and is
    # tried again after NOTIFY_RETRY_BASE_S, doubling up to NOTIFY_RETRY_MAX_S, until
    # NOTIFY_GIVE_UP_S after its first failure (then `notification_failed`; 0 = never retry).
    # A 4xx is final at once. NOTIFIER_ATTEMPTS: quick tries within one attempt (0.5 s, 1 s apart).
    notify_retry_base_s: float = Field(default=5.0, gt=0, le=3600)
    notify_retry_max_s: float = Field(default=300.0, gt=0, le=24 * 3600)
    notify_give_up_s: float = Field(default=6 * 3600.0, ge=0, le=7 * 24 * 3600)
    notifier_attempts: int = Field(default=3, ge=1, le=10)

    # --- Acknowledge from chat, escalation (agent_service/chat, incidents/escalation.py) ---
    slack_signing_secret: str | None = None  # unset: POST /integrations/slack/actions is 404
    telegram_bot_token: str | None = None
    telegram_chat_id: str = ""  # comma-separated chat ids the bot answers; others are ignored
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_secret: str | None = None  # unset: POST /integrations/telegram/webhook is 404
    chat_timeout_s: float = Field(default=5.0, gt=0, le=60)  # Slack response_url, Telegram sendMessage
    # A critical incident nobody acknowledged for ESCALATE_AFTER_S is paged again to the next step
    # of ESCALATION_TO (`;` between steps, `,` between a step's addresses; unset = no escalation).
    escalate_after_s: float = Field(default=900.0, gt=0, le=7 * 24 * 3600)
    escalation_to: str = Field(default="", max_length=4000)
    # --- Follow-up analysis (incidents/followup.py, issue 21): seconds after an incident's first
    # report to analyse it once more and send that as an `updated` notification (0 = never).
    follow_up_analysis_s: float = Field(default=300.0, ge=0, le=24 * 3600)

    # --- Change events (agent_service/events): POST /events, GET /events, get_changes ---
    github_webhook_secret: str | None = None  # unset: POST /integrations/github/webhook is 404
    events_retention_s: int = Field(default=30 * 24 * 3600, ge=3600, le=400 * 24 * 3600)
    events_max: int = Field(default=10_000, ge=10, le=1_000_000)  # beyond it the oldest go first
    # --- Runbooks (agent_service/runbooks): markdown with front matter, unset = off ---
    runbooks_dir: str | None = None

    # --- Remediation (agent_service/remediation): proposals, approval, HAProxy Runtime API ---
    remediation_execute: bool = False  # false: an approved runtime action is a dry run (the exact command shown)
    # Comma-separated `unix:/path` or `tcp:host:port`, each optionally `name=`; unset: nothing executable here.
    haproxy_runtime_sockets: str = Field(default="", max_length=4000)
    haproxy_runtime_timeout_s: float = Field(default=3.0, gt=0, le=60)
    # GitHub (remediation/github): an approved proposal files the incident's issue and a draft PR.
    github_token: str | None = None  # a fine-grained token: Contents, Issues, Pull requests on GITHUB_REPO
    github_repo: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
    github_api_url: str = "https://api.github.com"
    github_base_branch: str = Field(default="main", max_length=200)
    github_haproxy_config_path: str | None = Field(default=None, max_length=500)  # the config a PR patches

    # --- Claude engine (agent_service/llm) ---
    max_steps: int = Field(default=6, ge=2, le=20)  # turns per specialist; the last forces the answer
    llm_max_tokens: int = Field(default=2048, ge=256, le=32_000)
    llm_timeout_s: float = Field(default=30.0, gt=0, le=600)  # one HTTP attempt; deadlines bound the run
    llm_max_retries: int = Field(default=2, ge=0, le=10)  # the SDK's retries on 408/409/429/5xx
    tool_timeout_s: float = Field(default=15.0, gt=0, le=300)
    # JSON {"model": {"input": 1, "output": 5, "cache_read": 0.1, "cache_write": 1.25}} (USD per MTok)
    llm_prices: dict[str, ModelPrice] = Field(default_factory=dict)

    # --- Web console (agent_service/console, issue 17): /console/ ---
    console_enabled: bool = True
    # Signs session cookies and CSRF tokens. Required when PUBLIC_URL is https; unset otherwise
    # (dev, demo) a random one per process is used, and sessions end when the process does.
    console_secret: str | None = Field(default=None, min_length=32, max_length=512)
    console_session_ttl_s: int = Field(default=12 * 3600, ge=60, le=30 * 24 * 3600)
    # Failed sign-ins allowed per user name and per client address in CONSOLE_LOGIN_WINDOW_S.
    console_login_max_attempts: int = Field(default=5, ge=1, le=10_000)
    console_login_window_s: int = Field(default=900, ge=1, le=24 * 3600)

    @model_validator(mode="after")
    def _ordered(self) -> Settings:
        if self.error_5xx_critical_pct < self.error_5xx_warning_pct:
            raise ValueError("ERROR_5XX_CRITICAL_PCT must be >= ERROR_5XX_WARNING_PCT")
        if self.notify_retry_max_s < self.notify_retry_base_s:
            raise ValueError("NOTIFY_RETRY_MAX_S must be >= NOTIFY_RETRY_BASE_S")
        for step in self.escalation_to.split(";"):
            for address in (a.strip() for a in step.split(",")):
                if address and not _ADDRESS.match(address):
                    raise ValueError(f"ESCALATION_TO: {address[:80]!r} is not an email address")
        parse_sockets(self.haproxy_runtime_sockets)  # fails fast on a bad entry
        if self.llm_engine == "openai" and not (self.openai_base_url and self.openai_specialist_model):
            raise ValueError("LLM_ENGINE=openai needs OPENAI_BASE_URL and OPENAI_SPECIALIST_MODEL")
        return self

    @model_validator(mode="after")
    def _console_secret(self) -> Settings:
        if self.console_enabled and not self.console_secret and self.public_url.startswith("https://"):
            raise ValueError("CONSOLE_SECRET (32+ characters) is required when the console is on and PUBLIC_URL is https")
        return self

    def engine_kind(self) -> Literal["anthropic", "rules", "openai"]:
        """LLM_ENGINE=auto → anthropic when ANTHROPIC_API_KEY is set, else the rules engine."""
        if self.llm_engine == "auto":
            return "anthropic" if self.anthropic_api_key else "rules"
        return self.llm_engine

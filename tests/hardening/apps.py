"""App builders for the hardening tests: each service's real app factory on injected settings."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def ingestion_app(redis_url: str, **overrides: Any) -> FastAPI:
    from ingestion_service.app import create_app
    from ingestion_service.settings import Settings

    return create_app(Settings(redis_url=redis_url, log_json=False, **overrides))


def agent_settings(redis_url: str, ingestion_url: str = "http://127.0.0.1:9", **overrides: Any) -> Any:
    from agent_service.settings import Settings

    values: dict[str, Any] = {
        "redis_url": redis_url,
        "ingestion_url": ingestion_url,
        "notifier_url": "http://127.0.0.1:9",
        "llm_engine": "rules",
        "log_json": False,
        "ingestion_timeout_s": 2.0,
        "notifier_timeout_s": 1.0,
        **overrides,
    }
    return Settings(**values)


def agent_app(redis_url: str, ingestion_url: str = "http://127.0.0.1:9", **overrides: Any) -> FastAPI:
    from agent_service.app import create_app

    return create_app(agent_settings(redis_url, ingestion_url, **overrides))


def notifier_app(redis_url: str, **overrides: Any) -> FastAPI:
    from notifier_service.app import create_app
    from notifier_service.settings import Settings

    values: dict[str, Any] = {"redis_url": redis_url, "log_json": False, "worker_enabled": False,
                              "smtp_port": 9, **overrides}
    return create_app(Settings(**values))


def write_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with placeholders filled) of every write operation in the app's OpenAPI schema."""
    out = []
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if method.upper() in WRITE_METHODS:
                filled = path.replace("{report_id}", "0123456789abcdef0123456789abcdef")
                filled = filled.replace("{incident_id}", "1").replace("{notification_id}", "abc123")
                out.append((method.upper(), filled))
    return sorted(out)

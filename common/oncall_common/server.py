"""Entry-point helper: configure logging and tracing, then run one app under uvicorn."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from oncall_common.logging import configure_logging
from oncall_common.settings import ServiceSettings
from oncall_common.telemetry import setup_tracing


def serve(service: str, settings: ServiceSettings, factory: Callable[[], FastAPI]) -> None:
    configure_logging(service, level=settings.log_level, json=settings.log_json)
    setup_tracing(service, settings)
    app = factory()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )

"""Entry-point helper: configure logging and tracing, then run one app under uvicorn."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from oncall_common.limits import HeaderSizeGuard, ServerLimits, protocol_class
from oncall_common.logging import configure_logging
from oncall_common.settings import ServiceSettings
from oncall_common.telemetry import setup_tracing


def serve(service: str, settings: ServiceSettings, factory: Callable[[], FastAPI],
          limits: ServerLimits | None = None) -> None:
    configure_logging(service, level=settings.log_level, json=settings.log_json)
    setup_tracing(service, settings)
    limits = limits or ServerLimits()
    app = factory()
    uvicorn.run(
        HeaderSizeGuard(app, max_header_bytes=limits.max_header_bytes),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        http=protocol_class(limits),
        h11_max_incomplete_event_size=limits.max_header_bytes,
        timeout_keep_alive=limits.keep_alive_s,
        backlog=min(2048, limits.max_connections),
    )

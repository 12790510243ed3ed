from __future__ import annotations

from oncall_common.server import serve

from ingestion_service.app import create_app
from ingestion_service.settings import Settings


def run() -> None:
    settings = Settings()
    serve("ingestion-service", settings, lambda: create_app(settings))

from __future__ import annotations

from oncall_common.server import serve

from notifier_service.app import create_app
from notifier_service.settings import Settings


def run() -> None:
    settings = Settings()
    serve("notifier-service", settings, lambda: create_app(settings))

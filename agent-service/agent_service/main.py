from __future__ import annotations

from oncall_common.server import serve

from agent_service.app import create_app
from agent_service.settings import Settings


def run() -> None:
    settings = Settings()
    serve("agent-service", settings, lambda: create_app(settings))

"""An empty value in the environment means unset: .env.example, loaded as Compose's env_file loads
it, must give a notifier that sends to an SMTP server without AUTH (no login with "" / "")."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from dotenv import dotenv_values

from agent_service.settings import Settings as AgentSettings
from ingestion_service.settings import Settings as IngestionSettings
from notifier_service.compose import Envelope
from notifier_service.settings import Settings as NotifierSettings
from notifier_service.smtp import SmtpConnection
from tests.notifier.conftest import SinkHandler
from tests.support.net import free_port

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def env_example(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every line of .env.example in the environment, as `env_file: [.env]` would set it."""
    values = {key: value or "" for key, value in dotenv_values(ENV_EXAMPLE).items()}
    assert values["SMTP_USERNAME"] == "" and values["SMTP_PASSWORD"] == ""  # what this test is about
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def test_empty_values_from_env_example_are_unset_in_every_service(monkeypatch: pytest.MonkeyPatch) -> None:
    env_example(monkeypatch)
    notifier = NotifierSettings()
    assert notifier.smtp_username is None and notifier.smtp_password is None
    assert notifier.notifier_token is None
    agent = AgentSettings()
    assert agent.anthropic_api_key is None and agent.api_token is None
    assert agent.engine_kind() == "rules"
    assert IngestionSettings().ingest_token is None


def test_an_empty_value_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "")
    monkeypatch.setenv("SMTP_TLS", "")
    settings = NotifierSettings()
    assert settings.port == 8002 and settings.smtp_tls == "none"
    monkeypatch.setenv("SMTP_USERNAME", "relay-user")
    with pytest.raises(ValueError, match="go together"):  # a set username still needs its password
        NotifierSettings()


async def test_notifier_configured_from_env_example_sends_to_a_server_without_auth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env_example(monkeypatch)
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)  # offers no AUTH
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    settings = NotifierSettings()
    connection = SmtpConnection(settings)
    try:
        message = (f"From: {settings.email_from}\r\nTo: {settings.email_to[0]}\r\n"
                   "Subject: env example\r\n\r\nhello\r\n").encode()

        async def nothing() -> None:
            return None

        delivered = await connection.send(
            Envelope(settings.email_from, list(settings.email_to), message, "<env@example>"), before_data=nothing)
        await connection.close()
    finally:
        controller.stop()
    assert delivered.response.startswith("250")
    (received,) = handler.messages()
    assert received.recipients == ["oncall@localhost"]
    assert received.message["Subject"] == "env example"

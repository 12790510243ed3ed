"""SMTP_TLS=starttls with AUTH, and SMTP_TLS=ssl, against aiosmtpd with a throw-away certificate."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.notifier.conftest import SmtpSink, fast_settings, notify_body, wait_until
from tests.notifier.test_delivery import running, status_of
from tests.support.binaries import require_binary

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = require_binary("openssl")
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    return context


class Accounts:
    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"copilot" and auth_data.password == b"s3cret"
        if ok:
            self.logins.append(mechanism)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers the 535 itself


@pytest.fixture
def starttls_sink(certificate: tuple[Path, Path]) -> Iterator[tuple[SmtpSink, Accounts]]:
    accounts = Accounts()
    sink = SmtpSink(
        tls_context=_server_context(certificate), require_starttls=True,
        authenticator=accounts, auth_required=True, auth_require_tls=True,
    ).start()
    try:
        yield sink, accounts
    finally:
        sink.stop()


def test_starttls_with_auth(redis_url: str, starttls_sink: tuple[SmtpSink, Accounts], certificate: tuple[Path, Path]) -> None:
    sink, accounts = starttls_sink
    settings = fast_settings(
        redis_url, sink.port, smtp_tls="starttls", smtp_ca_file=str(certificate[0]),
        smtp_username="copilot", smtp_password="s3cret",
    )
    with running(settings) as client:
        ident = client.post("/notify", json=notify_body()).json()["id"]
        wait_until(lambda: status_of(client, ident)["status"] == "sent")
    assert len(sink.messages()) == 1 and accounts.logins


def test_wrong_password_is_retried_with_the_reason(redis_url: str, starttls_sink: tuple[SmtpSink, Accounts], certificate: tuple[Path, Path]) -> None:
    sink, _ = starttls_sink
    settings = fast_settings(
        redis_url, sink.port, smtp_tls="starttls", smtp_ca_file=str(certificate[0]),
        smtp_username="copilot", smtp_password="wrong", max_attempts=2,
    )
    with running(settings) as client:
        ident = client.post("/notify", json=notify_body()).json()["id"]
        failed = wait_until(lambda: (s := status_of(client, ident))["status"] == "failed" and s)
    assert failed["attempts"] == 2 and "535" in failed["last_error"]
    assert sink.messages() == []


def test_plain_mode_never_upgrades_and_fails_against_a_tls_only_server(redis_url: str, starttls_sink: tuple[SmtpSink, Accounts]) -> None:
    sink, _ = starttls_sink
    with running(fast_settings(redis_url, sink.port, smtp_tls="none", max_attempts=1)) as client:
        ident = client.post("/notify", json=notify_body()).json()["id"]
        failed = wait_until(lambda: (s := status_of(client, ident))["status"] == "failed" and s)
    assert "530" in failed["last_error"]  # "Must issue a STARTTLS command first"


def test_untrusted_certificate_is_refused(redis_url: str, starttls_sink: tuple[SmtpSink, Accounts]) -> None:
    sink, _ = starttls_sink
    settings = fast_settings(redis_url, sink.port, smtp_tls="starttls", smtp_username="copilot", smtp_password="s3cret", max_attempts=1)
    with running(settings) as client:
        ident = client.post("/notify", json=notify_body()).json()["id"]
        failed = wait_until(lambda: (s := status_of(client, ident))["status"] == "failed" and s)
    assert "CERTIFICATE_VERIFY_FAILED" in failed["last_error"] and sink.messages() == []


def test_implicit_tls(redis_url: str, certificate: tuple[Path, Path]) -> None:
    sink = SmtpSink(ssl_context=_server_context(certificate)).start()
    try:
        settings = fast_settings(redis_url, sink.port, smtp_tls="ssl", smtp_ca_file=str(certificate[0]))
        with running(settings) as client:
            ident = client.post("/notify", json=notify_body()).json()["id"]
            wait_until(lambda: status_of(client, ident)["status"] == "sent")
        assert len(sink.messages()) == 1
    finally:
        sink.stop()

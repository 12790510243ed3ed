"""SMTP delivery with aiosmtplib: one reusable connection per sender task.

`EmailSender` is the email channel's `Sender` (delivery.py): it builds the message and sends it.
Errors are classified: a 5xx answer to MAIL, RCPT or DATA is permanent (the notification
fails at once with the server's reason); connection, TLS, authentication, timeout and 4xx
problems are transient (retried with backoff) — they concern the server, not the message.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosmtplib

from notifier_service.compose import EmailComposer, Envelope
from notifier_service.delivery import BeforeSend, DeliveryError
from notifier_service.settings import Settings
from notifier_service.store import Stored


@dataclass(frozen=True)
class Delivered:
    refused: dict[str, str]  # recipients the server refused while accepting the others
    response: str


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}".strip()
    return f"{type(exc).__name__}: {exc}".strip().rstrip(":")


class SmtpConnection:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None
        # aiosmtplib would otherwise call getfqdn() (a DNS lookup) in a thread for every connection.
        self.local_hostname = settings.smtp_local_hostname or socket.gethostname() or "localhost"

    def _new_client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            local_hostname=self.local_hostname,
            use_tls=s.smtp_tls == "ssl",
            start_tls=s.smtp_tls == "starttls",  # False, not None: "none" never upgrades on its own
            validate_certs=s.smtp_validate_certs,
            cert_bundle=s.smtp_ca_file,
            timeout=s.smtp_timeout_seconds,
        )

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        client = self._new_client()
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:
                await client.ehlo()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client.close()
            raise DeliveryError(f"connecting to {self.settings.smtp_host}:{self.settings.smtp_port}: {_describe(exc)}", permanent=False) from exc
        self._client = client
        return client

    async def send(self, envelope: Envelope, *, before_data: Callable[[], Awaitable[None]]) -> Delivered:
        """Send one message; `before_data` runs once the envelope is accepted, just before DATA."""
        try:
            async with asyncio.timeout(self.settings.smtp_send_timeout_seconds):
                return await self._send(envelope, before_data)
        except DeliveryError:
            await self.close()
            raise
        except TimeoutError as exc:
            await self.close()
            raise DeliveryError(f"SMTP transaction timed out after {self.settings.smtp_send_timeout_seconds:g} s", permanent=False) from exc
        except asyncio.CancelledError:
            self.abort()
            raise
        except Exception:  # e.g. Redis failing in before_data: the transaction is half done
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the connection without a goodbye (the server discards an unfinished transaction)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def _send(self, envelope: Envelope, before_data: Callable[[], Awaitable[None]]) -> Delivered:
        client = await self._connected()
        try:
            try:
                await client.mail(envelope.sender)
            except aiosmtplib.SMTPServerDisconnected:  # an idle connection the server closed
                await self.close()
                client = await self._connected()
                await client.mail(envelope.sender)
            refused: dict[str, str] = {}
            for rcpt in envelope.recipients:
                try:
                    await client.rcpt(rcpt)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    refused[rcpt] = _describe(exc)
            if len(refused) == len(envelope.recipients):
                permanent = all(reason[:1] == "5" for reason in refused.values())
                raise DeliveryError("all recipients refused: " + "; ".join(f"{k}: {v}" for k, v in refused.items()), permanent=permanent)
            await before_data()
            response = await client.data(envelope.message)
            return Delivered(refused=refused, response=f"{response.code} {response.message}")
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(_describe(exc), permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(_describe(exc), permanent=False) from exc

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            async with asyncio.timeout(2):
                await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()


class EmailSender:
    def __init__(self, settings: Settings, composer: EmailComposer) -> None:
        self.composer = composer
        self.connection = SmtpConnection(settings)

    async def deliver(self, item: Stored, *, before_send: BeforeSend) -> str:
        try:
            # Rendering a long report takes a while: off the loop, which keeps serving requests.
            envelope = await asyncio.to_thread(self.composer.compose, item.fields, item.to)
        except Exception as exc:  # a bug or corrupt data: retrying cannot help
            raise DeliveryError(f"cannot build the email: {exc!r}", permanent=True) from exc
        delivered = await self.connection.send(envelope, before_data=before_send)
        return "; ".join(f"refused {k}: {v}" for k, v in delivered.refused.items())

    async def idle(self) -> None:
        await self.connection.close()

    async def close(self) -> None:
        await self.connection.close()

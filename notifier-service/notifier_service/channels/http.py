"""One HTTP POST to a channel, its answer classified like SMTP's (smtp.py).

Connection problems, timeouts, 408/425/429 and 5xx are transient (retried with backoff; a 429's
`Retry-After` is honoured); any other 4xx is permanent: the receiver refuses this message or
our credentials, and sending it again cannot help. Reasons never carry the URL, which holds
the webhook's or the bot's secret.
"""

from __future__ import annotations

import httpx

from notifier_service.delivery import BeforeSend, DeliveryError

TRANSIENT_STATUS = frozenset({408, 425, 429})


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def refused(channel: str, response: httpx.Response, *, after: float | None = None) -> DeliveryError:
    detail = " ".join(response.text.split())[:300]
    code = response.status_code
    transient = code in TRANSIENT_STATUS or code >= 500
    return DeliveryError(
        f"{channel}: HTTP {code}" + (f": {detail}" if detail else ""),
        permanent=not transient,
        retry_after=after if after is not None else retry_after(response),
    )


async def post(
    client: httpx.AsyncClient, channel: str, url: str, *, before_send: BeforeSend,
    json: object = None, content: bytes | None = None, headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST and return a 2xx response; anything else raises a classified DeliveryError."""
    request = client.build_request("POST", url, json=json, content=content, headers=headers)
    await before_send()
    try:
        response = await client.send(request)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"{channel}: timed out ({type(exc).__name__})", permanent=False) from exc
    except httpx.HTTPError as exc:
        reason = f"{channel}: {type(exc).__name__}: {exc}".replace(url, "<url>")
        raise DeliveryError(reason[:300], permanent=False) from exc
    if not 200 <= response.status_code < 300:
        raise refused(channel, response)
    return response


class HttpSender:
    """A sender's HTTP client, opened on first use and kept (httpx expires idle keep-alive
    connections itself): building a client builds an SSL context, tens of ms of CPU on the loop."""

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def idle(self) -> None:
        return None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

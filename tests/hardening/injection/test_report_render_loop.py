"""A 199k-character report does not block the notifier's event loop (finding 8): the real app
under uvicorn in this test's loop, a real redis-server and SMTP inbox. The check is where the
rendering runs (never on the loop's thread), not how long it took: the longest stall of a ticker
in the same loop is printed as a figure (timings belong to `make bench`)."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
import uvicorn

from notifier_service import compose
from notifier_service.app import create_app
from tests.notifier.conftest import AUTH, SmtpSink, fast_settings, notify_body, smtp_sink  # noqa: F401
from tests.support.net import free_port

pytestmark = pytest.mark.real


def big_report() -> str:
    row = "| be_app/app{0} | **critical** | [runbook](https://copilot.example/r/{0}) | `503` *x* _y_ |\n"
    rows = "".join(row.format(i) for i in range(3000))
    return ("# Report\n\n| server | severity | link | note |\n|---|---|---|---|\n" + rows)[:199_000]


async def test_rendering_a_199k_report_runs_off_the_event_loop(
    redis_url: str, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    loop_thread = threading.get_ident()
    rendered_on: list[int] = []
    real_render = compose.render_report

    def watched(markdown: str, **kw: object):  # type: ignore[no-untyped-def]
        rendered_on.append(threading.get_ident())
        return real_render(markdown, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(compose, "render_report", watched)  # our own code, observed (not an SDK)
    port = free_port()
    app = create_app(fast_settings(redis_url, smtp_sink.port))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    serving = asyncio.create_task(server.serve())
    longest = 0.0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now

    try:
        while not server.started:
            await asyncio.sleep(0.01)
        ticking = asyncio.create_task(ticker())
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=10) as client:
            body = notify_body(report_markdown=big_report())
            assert len(body["report_markdown"]) == 199_000
            assert (await client.post("/notify", json=body)).status_code == 202
            deadline = time.monotonic() + 60
            while not smtp_sink.messages() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        stop.set()
        await ticking
    finally:
        server.should_exit = True
        await serving
    print(f"longest event-loop stall while rendering a 199k report: {longest * 1000:.0f} ms")
    assert rendered_on and loop_thread not in rendered_on  # rendered in a worker thread, every time
    (got,) = smtp_sink.messages()
    assert "report truncated" in got.part("plain")

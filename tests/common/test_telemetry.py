from __future__ import annotations

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from oncall_common.settings import ServiceSettings
from oncall_common.telemetry import TracingMiddleware, setup_tracing

PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"


async def test_a_server_span_per_request_continuing_the_callers_trace() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def teapot(request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("short and stout", status_code=418)

    app = Starlette(routes=[Route("/pot", teapot)])
    app.add_middleware(TracingMiddleware, service="svc", tracer_provider=provider)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/pot", headers={"traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"})
    assert response.status_code == 418
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /pot"
    assert span.kind == trace.SpanKind.SERVER
    assert span.attributes["http.status_code"] == 418
    assert format(span.context.trace_id, "032x") == PARENT_TRACE
    assert span.parent is not None and format(span.parent.span_id, "016x") == PARENT_SPAN


def test_tracing_is_off_unless_an_exporter_is_configured() -> None:
    assert setup_tracing("svc", ServiceSettings()) is None

from __future__ import annotations

import httpx
from fastapi import APIRouter
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from starlette.responses import PlainTextResponse

from oncall_common.request_id import async_client
from oncall_common.settings import ServiceSettings
from oncall_common.telemetry import setup_tracing
from oncall_common.web import create_base_app

PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"


def recording() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def teapot_app(provider: TracerProvider):  # type: ignore[no-untyped-def]
    app = create_base_app(ServiceSettings(), service="svc", registry=CollectorRegistry(), tracer_provider=provider)
    router = APIRouter()

    @router.get("/pots/{pot_id}")
    async def teapot(pot_id: str) -> PlainTextResponse:
        return PlainTextResponse(f"{pot_id}: short and stout", status_code=418)

    app.include_router(router)
    return app


async def test_a_server_span_per_request_named_by_route_continuing_the_callers_trace() -> None:
    provider, exporter = recording()
    transport = httpx.ASGITransport(app=teapot_app(provider))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = await client.get("/pots/1", headers={"traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"})
        await client.get("/pots/2")
        await client.get("/health")  # probes are not traced
    assert first.status_code == 418
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["GET /pots/{pot_id}", "GET /pots/{pot_id}"]
    span = spans[0]
    assert span.kind == trace.SpanKind.SERVER
    assert span.attributes is not None and span.attributes["http.status_code"] == 418
    assert span.attributes["http.route"] == "/pots/{pot_id}"
    assert format(span.context.trace_id, "032x") == PARENT_TRACE
    assert span.parent is not None and format(span.parent.span_id, "016x") == PARENT_SPAN
    assert format(spans[1].context.trace_id, "032x") != PARENT_TRACE  # no traceparent: a new trace


async def test_outgoing_calls_carry_the_trace_on() -> None:
    provider, exporter = recording()
    seen: list[str | None] = []

    def downstream(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("traceparent"))
        return httpx.Response(204)

    tracer = provider.get_tracer("test")
    async with async_client(transport=httpx.MockTransport(downstream), tracer_provider=provider) as client:
        with tracer.start_as_current_span("work") as work:
            await client.get("http://downstream/x")
    (client_span,) = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.CLIENT]
    trace_id = format(work.get_span_context().trace_id, "032x")
    (header,) = seen
    assert header is not None and header.startswith(f"00-{trace_id}-{format(client_span.context.span_id, '016x')}-")
    assert client_span.parent is not None and client_span.parent.span_id == work.get_span_context().span_id


def test_tracing_is_off_unless_an_exporter_is_configured() -> None:
    assert setup_tracing("svc", ServiceSettings()) is None


async def test_a_shared_transport_is_wrapped_not_patched() -> None:
    provider, exporter = recording()
    seen: list[str | None] = []
    shared = httpx.MockTransport(lambda request: seen.append(request.headers.get("traceparent")) or httpx.Response(204))
    for _ in range(3):
        async with async_client(transport=shared, tracer_provider=provider) as client:
            await client.get("http://downstream/x")
    assert len([s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.CLIENT]) == 3  # one each
    assert len(seen) == 3 and all(seen)


async def test_one_trace_across_two_services() -> None:
    provider, exporter = recording()
    downstream = teapot_app(provider)
    upstream = create_base_app(ServiceSettings(), service="up", registry=CollectorRegistry(), tracer_provider=provider)

    @upstream.get("/brew/{n}")
    async def brew(n: int) -> dict[str, int]:
        async with async_client(transport=httpx.ASGITransport(app=downstream), base_url="http://down",
                                tracer_provider=provider) as client:
            return {"status": (await client.get(f"/pots/{n}")).status_code}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=upstream), base_url="http://up") as client:
        assert (await client.get("/brew/3")).json() == {"status": 418}
    spans = {s.name: s for s in exporter.get_finished_spans()}
    up, call, down = spans["GET /brew/{n}"], spans["GET"], spans["GET /pots/{pot_id}"]
    assert call.kind == trace.SpanKind.CLIENT
    assert len({up.context.trace_id, call.context.trace_id, down.context.trace_id}) == 1
    assert call.parent is not None and call.parent.span_id == up.context.span_id
    assert down.parent is not None and down.parent.span_id == call.context.span_id

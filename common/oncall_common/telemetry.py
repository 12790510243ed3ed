"""OpenTelemetry tracing: a server span per request, a client span per outgoing call.

The spans come from OpenTelemetry's own FastAPI and httpx instrumentations: server spans are
named by route template (`GET /incidents/{incident_id}`, one name per route, not per id), the
caller's `traceparent` is continued, and every call made through `request_id.async_client`
carries the current trace on. The tracer provider is process-wide in OpenTelemetry, so it is
installed by the service entry point (`setup_tracing`), never at import and never by
`create_app`: tests get the no-op tracer, or inject their own provider.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import AsyncOpenTelemetryTransport, HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from oncall_common.settings import ServiceSettings

# Probes and scrapes are not traced: they would bury the requests worth looking at.
UNTRACED_URLS = r"/health(/ready)?$,/prometheus/metrics$"


def setup_tracing(service: str, settings: ServiceSettings) -> TracerProvider | None:
    if not settings.otel_exporter_otlp_endpoint and not settings.otel_console:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if settings.otel_console:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def trace_app(app: FastAPI, *, tracer_provider: trace.TracerProvider | None = None) -> None:
    """One server span per request (none for the ASGI send/receive events inside it)."""
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, excluded_urls=UNTRACED_URLS, exclude_spans=["receive", "send"]
    )


def traced_client(
    transport: httpx.AsyncBaseTransport | None, *, tracer_provider: trace.TracerProvider | None = None,
    **kwargs: Any,
) -> httpx.AsyncClient:
    """An AsyncClient with a client span per request and the `traceparent` header that continues
    the trace. A transport handed in is wrapped, not patched: it may be shared by other clients."""
    if transport is not None:
        return httpx.AsyncClient(
            transport=AsyncOpenTelemetryTransport(transport, tracer_provider=tracer_provider), **kwargs
        )
    client = httpx.AsyncClient(**kwargs)
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=tracer_provider)  # its own transport
    return client

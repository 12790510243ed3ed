"""OpenTelemetry tracing: a server span per request; exporters chosen by settings.

The tracer provider is process-wide in OpenTelemetry, so it is installed by the service entry
point (`setup_tracing`), never at import and never by `create_app`: tests get the no-op tracer.
"""

from __future__ import annotations

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oncall_common.settings import ServiceSettings


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


class TracingMiddleware:
    def __init__(self, app: ASGIApp, *, service: str, tracer_provider: trace.TracerProvider | None = None) -> None:
        self.app = app
        self.tracer = trace.get_tracer(service, tracer_provider=tracer_provider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        parent = propagate.extract(carrier)
        name = f"{scope.get('method', 'GET')} {scope.get('path', '')}"
        token = context.attach(parent)
        try:
            with self.tracer.start_as_current_span(name, kind=trace.SpanKind.SERVER) as span:
                span.set_attribute("http.method", scope.get("method", ""))
                span.set_attribute("http.target", scope.get("path", ""))

                async def send_traced(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        span.set_attribute("http.status_code", message["status"])
                    await send(message)

                await self.app(scope, receive, send_traced)
        finally:
            context.detach(token)

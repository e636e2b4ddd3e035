"""OpenTelemetry, imported only when tracing is on (server/observability/tracing.py).

Spans go to OTEL_EXPORTER_OTLP_ENDPOINT over OTLP/HTTP (protobuf), from a batch processor
whose thread belongs to the worker that made them. The other OTEL_* variables of the
exporter (headers, time-out, compression) apply as usual.

What leaves the process is filtered, whatever an instrumentation library records:
attributes only from ALLOWED_ATTRIBUTES (HTTP method, route and status; the database's
system, name, user, address and the SQL text, whose values are always parameters; and the
service's own `rekisteri.*` labels), exception events with their type only (a message can
quote a value), no status description, and a server span named after its route only when
the route is one of the application's (any other path is a client's free text).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status
from starlette.applications import Starlette
from starlette.routing import Route

from server.settings import Settings

ALLOWED_ATTRIBUTES = frozenset(
    {
        # HTTP server spans (both generations of the semantic conventions)
        "http.method",
        "http.request.method",
        "http.status_code",
        "http.response.status_code",
        "http.route",
        "http.scheme",
        "url.scheme",
        "http.flavor",
        "network.protocol.version",
        # database client spans
        "db.system",
        "db.system.name",
        "db.name",
        "db.namespace",
        "db.user",
        "db.statement",
        "db.query.text",
        "db.operation.name",
        "net.peer.name",
        "net.peer.port",
        "server.address",
        "server.port",
        "net.transport",
        "network.transport",
        "error.type",
    }
)
OWN_PREFIX = "rekisteri."
EXCEPTION_TYPE = "exception.type"
MAX_ATTRIBUTE_LENGTH = 8192
# Neither probes nor scrapes are traced.
EXCLUDED_URLS = "/healthz,/readyz,/metrics"


def allowed(key: str) -> bool:
    return key in ALLOWED_ATTRIBUTES or key.startswith(OWN_PREFIX)


def filtered(span: ReadableSpan) -> ReadableSpan:
    """The span with only allowed attributes, exception types and no status text."""
    attributes = {k: v for k, v in (span.attributes or {}).items() if allowed(k)}
    events = [
        Event(
            event.name,
            {k: v for k, v in (event.attributes or {}).items() if k == EXCEPTION_TYPE},
            event.timestamp,
        )
        for event in span.events
        if event.name == "exception"
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class FilteringExporter(SpanExporter):
    """Passes each span through `filtered` to the real exporter."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([filtered(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def traces_endpoint(base: str) -> str:
    """The traces URL under an OTLP base URL, as the SDK derives it from the variable."""
    explicit = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if explicit:
        return explicit
    return base.rstrip("/") + "/v1/traces"


def span_details(paths: frozenset[str]) -> Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]:
    """The server span's name: method and path for the application's own routes, the
    method alone for any other path."""

    def details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        method = str(scope.get("method") or "HTTP")
        path = scope.get("path")
        if path in paths:
            return f"{method} {path}", {"http.route": path}
        return method, {}

    return details


def start(app: Starlette, settings: Settings) -> tuple[Any, Callable[[], None]]:
    """Install the provider, the ASGI middleware and asyncpg's instrumentation; returns the
    tracer of the service's own spans and the shutdown function."""
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "rekisteri"})
    provider = TracerProvider(
        resource=resource, span_limits=SpanLimits(max_attribute_length=MAX_ATTRIBUTE_LENGTH)
    )
    exporter = OTLPSpanExporter(endpoint=traces_endpoint(settings.otel_exporter_otlp_endpoint))
    provider.add_span_processor(BatchSpanProcessor(FilteringExporter(exporter)))
    paths = frozenset(route.path for route in app.routes if isinstance(route, Route))
    app.add_middleware(
        OpenTelemetryMiddleware,
        excluded_urls=EXCLUDED_URLS,
        default_span_details=span_details(paths),
        exclude_spans=["receive", "send"],
        tracer_provider=provider,
    )
    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=provider)

    def stop() -> None:
        instrumentor.uninstrument()
        provider.shutdown()  # exports what is still queued

    return provider.get_tracer("rekisteri"), stop

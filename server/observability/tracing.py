"""Traces, only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Off (the default), nothing of OpenTelemetry is imported and `span()` hands back one shared
no-op context manager: the request path pays a function call per step, nothing more. On,
`start` (server/observability/otel.py) instruments the ASGI application and asyncpg and
exports over OTLP/HTTP; the runner and the compiled executor add the steps of a request:

    rekisteri.parse             parse and validate the document (cached per document)
    rekisteri.plan              the compiled executor's plan (cached per request shape)
    rekisteri.sql               the compiled executor's one statement (its log rows inside;
                                it commits by itself)
    rekisteri.resolve           the resolver executor (its SQL as asyncpg's spans)
    rekisteri.access_log.write  an access-log record written on its own
    rekisteri.commit            the COMMIT of the resolver executor's transaction

Only attributes from a fixed list leave the process (otel.ALLOWED_ATTRIBUTES): no
principal, client address, token, variable, document or value of a row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from server.settings import Settings

PARSE = "rekisteri.parse"
PLAN = "rekisteri.plan"
SQL = "rekisteri.sql"
RESOLVE = "rekisteri.resolve"
LOG_WRITE = "rekisteri.access_log.write"
COMMIT = "rekisteri.commit"

_OFF: AbstractContextManager[None] = contextlib.nullcontext()
_tracer: Any = None


def span(name: str) -> AbstractContextManager[Any]:
    """A span named `name` below the current one; a shared no-op when tracing is off."""
    tracer = _tracer
    if tracer is None:
        return _OFF
    return tracer.start_as_current_span(name)  # type: ignore[no-any-return]


def annotate(attributes: dict[str, str | int | float]) -> None:
    """Set bounded attributes (labels, never personal data) on the current span."""
    if _tracer is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attributes(attributes)


def enabled() -> bool:
    return _tracer is not None


def start(app: Starlette, settings: Settings) -> Callable[[], None] | None:
    """Trace `app` when the settings name an OTLP endpoint; returns what flushes and stops
    the exporter at shutdown (None, and nothing imported, when tracing is off)."""
    global _tracer
    if not settings.otel_exporter_otlp_endpoint:
        return None
    from server.observability import otel

    _tracer, stop = otel.start(app, settings)

    def shutdown() -> None:
        global _tracer
        _tracer = None
        stop()

    return shutdown

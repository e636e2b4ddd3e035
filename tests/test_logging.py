"""Log output: JSON lines in production, readable lines in development, one line per GraphQL
request without personal data, and a quiet start-up."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from server import logsafety
from server.observability.logging import (
    REQUEST_LOGGER,
    ConsoleFormatter,
    JsonFormatter,
    QuietFilter,
    configure,
)
from server.operations.runner import document_hash
from server.settings import Environment, Settings
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY, Users, gql
from tests.processes import rekisteri, run_to_end

IDENTITY_CODE = "131052-308T"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def record(message: str, *args: Any, level: int = logging.INFO, **extra: Any) -> logging.LogRecord:
    entry = logging.LogRecord("server.test", level, __file__, 1, message, args, None)
    entry.__dict__.update(extra)
    return entry


class Capture(logging.Handler):
    """Keeps the records of one logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def request_lines() -> Iterator[Capture]:
    logger = logging.getLogger(REQUEST_LOGGER)
    capture = Capture()
    level = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)
    yield capture
    logger.removeHandler(capture)
    logger.setLevel(level)


# -- the formats -----------------------------------------------------------------------


def test_json_lines_carry_fields_and_are_redacted() -> None:
    line = JsonFormatter().format(
        record(
            'key %s exists; password: hunter2"} and more',
            IDENTITY_CODE,
            request_id="r-1",
            duration_ms=1.5,
            note=f"for {IDENTITY_CODE}",
        )
    )
    entry = json.loads(line)  # a redaction never breaks the line
    assert "\n" not in line
    assert entry["level"] == "info" and entry["logger"] == "server.test"
    assert entry["request_id"] == "r-1" and entry["duration_ms"] == 1.5
    assert IDENTITY_CODE not in line and "hunter2" not in line
    assert "[identity code]" in entry["message"] and "[identity code]" in entry["note"]
    assert entry["time"].endswith("+00:00")


def test_json_lines_carry_redacted_tracebacks() -> None:
    try:
        raise ValueError(f"Key (personal_identity_code)=({IDENTITY_CODE}) already exists")
    except ValueError:
        entry = record("failed", level=logging.ERROR)
        entry.exc_info = sys.exc_info()
    parsed = json.loads(JsonFormatter().format(entry))
    assert "ValueError" in parsed["exception"]
    assert IDENTITY_CODE not in parsed["exception"]


def test_console_lines_are_readable_and_redacted() -> None:
    line = ConsoleFormatter().format(
        record("graphql request", outcome="ok", duration_ms=2.25, note=IDENTITY_CODE)
    )
    assert re.match(r"\d\d:\d\d:\d\d INFO    server\.test: graphql request ", line)
    assert "outcome=ok" in line and "duration_ms=2.25" in line
    assert IDENTITY_CODE not in line


def test_the_format_follows_the_environment() -> None:
    assert Settings().log_style == "console"  # development
    production = Settings(
        environment=Environment.TEST,
        secret_key=TEST_SECRET,
        audit_seal_key=TEST_SECRET + "-seal",
        audit_signing_key=TEST_SIGNING_KEY,
    )
    assert production.log_style == "json"
    assert Settings(log_format="json").log_style == "json"
    assert Settings(log_level="debug").log_level == "DEBUG"


def test_configure_replaces_its_own_handler_only() -> None:
    root = logging.getLogger()
    level = root.level
    other = Capture()
    root.addHandler(other)
    stream = io.StringIO()
    try:
        configure(Settings(log_format="json"), stream=io.StringIO())
        handler = configure(Settings(log_format="json"), stream=stream)
        ours = [h for h in root.handlers if type(h).__name__ == "_ServiceHandler"]
        assert ours == [handler]
        assert other in root.handlers
        assert isinstance(other.formatter, logsafety.RedactingFormatter)
        logging.getLogger("server.test").warning("hello %s", IDENTITY_CODE)
        (line,) = stream.getvalue().splitlines()
        assert json.loads(line)["message"] == "hello [identity code]"
    finally:
        root.removeHandler(other)
        for h in [h for h in root.handlers if type(h).__name__ == "_ServiceHandler"]:
            root.removeHandler(h)
        root.setLevel(level)


def test_start_up_noise_is_dropped() -> None:
    quiet = QuietFilter(routine_events=False)

    def kept(name: str, message: str, level: int = logging.INFO) -> bool:
        entry = logging.LogRecord(name, level, __file__, 1, message, (), None)
        return quiet.filter(entry)

    assert not kept("alembic.runtime.plugins", "setup plugin alembic.autogenerate.schemas")
    assert not kept("alembic.runtime.migration", "Context impl PostgresqlImpl.")
    assert not kept("alembic.runtime.migration", "Will assume transactional DDL.")
    assert kept("alembic.runtime.migration", "Running upgrade 0001 -> 0002, identity")
    assert not kept("uvicorn.error", "Started server process [1]")
    assert kept("uvicorn.error", "Exception in ASGI application", logging.ERROR)
    assert not kept("server.identity.events", "auth event=user_created principal=user:x")
    assert kept("server.identity.events", "auth event=login_failed", logging.WARNING)
    assert QuietFilter(routine_events=True).filter(
        logging.LogRecord("server.identity.events", logging.INFO, "", 1, "x", (), None)
    )


# -- the request line ------------------------------------------------------------------

LITERAL_NAME = "Yla-Soininmaki"
LITERAL_QUERY = f"""
query Find {{
  customers(first: 3, filter: {{ name: "{LITERAL_NAME}" }}) {{
    edges {{ node {{ id }} }}
  }}
}}
"""


async def test_one_line_per_graphql_request_without_personal_data(
    client: httpx.AsyncClient, users: Users, request_lines: Capture, settings: Settings
) -> None:
    token = await users.token("customer_service")
    request_lines.records.clear()
    answered = await gql(
        client, LITERAL_QUERY, token=token, variables={"unused": "aija@example.fi"}
    )
    assert answered.status_code == 200, answered.text
    refused = await gql(client, "{ products { name } }")
    assert refused.status_code == 401

    first, second = request_lines.records
    fields = {key: first.__dict__[key] for key in ("request_id", "operation_type", "outcome")}
    assert fields == {
        "request_id": answered.json()["extensions"]["requestId"],
        "operation_type": "query",
        "outcome": "ok",
    }
    assert first.__dict__["document_hash"] == document_hash(LITERAL_QUERY, settings.secret_key)
    assert first.__dict__["executor"] == answered.json()["extensions"]["executor"]
    assert first.__dict__["status"] == 200
    assert first.__dict__["purpose"] == "customer_relationship"
    assert isinstance(first.__dict__["duration_ms"], float)
    assert second.__dict__["outcome"] == "unauthenticated"
    assert second.__dict__["status"] == 401

    for entry in (first, second):
        line = JsonFormatter().format(entry)
        parsed = json.loads(line)
        assert parsed["message"] == "graphql request"
        for secret in (LITERAL_NAME, "aija@example.fi", token, "Find", "customers"):
            assert secret not in line
        assert not UUID.search(line.replace(parsed["request_id"], ""))  # no principal ID


# -- start-up from the command line ----------------------------------------------------


def run_cli(database_url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "development"}
    return run_to_end(rekisteri(*argv), env)


def test_db_upgrade_and_demo_seed_are_quiet(fresh_database_url: str) -> None:
    upgraded = run_cli(fresh_database_url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "setup plugin" not in upgraded.stderr
    assert "Context impl" not in upgraded.stderr
    assert "database at revision" in upgraded.stdout

    seeded = run_cli(fresh_database_url, "seed", "--customers", "3", "--demo")
    assert seeded.returncode == 0, seeded.stderr
    assert "demo-auditor" in seeded.stdout
    assert not UUID.search(seeded.stdout + seeded.stderr)  # no user's ID per demo user
    assert "user_created" not in seeded.stderr

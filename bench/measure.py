"""What the access-log benchmarks share: the server they use, their keys and settings,
scratch database URLs, timing and percentiles, and the record of a customer page query.

Imported as `measure` (the benchmarks run as scripts: their folder is on the path).
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import asyncpg

from server.audit.records import EventKind, RequestRecord
from server.audit.signing import generate_private_key_pem
from server.operations.runner import event_record
from server.settings import Environment, Settings

DEFAULT_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
KEY = "benchmark-seal-key-0123456789abcdef-0123456789"

GENERATED_REQUESTS = """\
    INSERT INTO access_log_request (at, request_id, event, principal, organisation, roles,
        purpose, client_address, operation_name, operation_type, document_hash,
        policy_version, outcome, duration_ms, executor, field_sets)
    SELECT at, request_id, 'graphql', 'user:' || (g % 500), 'ksat', '{customer_service}',
           (ARRAY['billing', 'customer_relationship', 'collection'])[1 + g % 3], '10.1.2.3',
           'CustomerPage', 'query', md5(g::text), '0123456789abcdef', 'ok', 12, 'compiled',
"""
"""The head of a statement that logs a customer page query for each `g` of `requests(g, at,
request_id)`: 500 principals, three purposes in turn; the field sets follow it."""


def database_url(url: str, name: str) -> str:
    """The same server as `url`, another database."""
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


async def ensure_database(url: str) -> None:
    """Create the database `url` names (on its server, through `postgres`) unless it exists."""
    server, _, name = url.rpartition("/")
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def bench_settings(url: str, **overrides: Any) -> Settings:
    """Test-environment settings on `url` with the benchmark's keys and a fresh signing key."""
    return Settings(
        environment=Environment.TEST,
        database_url=url,
        secret_key=KEY,
        audit_seal_key=KEY,
        audit_signing_key=generate_private_key_pem(),
        **overrides,
    )


def page_record(**changes: Any) -> RequestRecord:
    """The record of a customer service user's customer page query (made by the runner's
    factory), with `changes`."""
    record = event_record(
        EventKind.GRAPHQL,
        principal=f"user:{uuid.uuid4()}",
        organisation="ksat",
        roles=("customer_service",),
        purpose="customer_relationship",
        client_address="10.1.2.3",
        operation_name="CustomerPage",
        operation_type="query",
        policy_version="0123456789abcdef",
    )
    return replace(record, document_hash="ab" * 32, duration_ms=42.0, **changes)


async def timed(runs: int, action: Callable[[], Awaitable[None]]) -> list[float]:
    """Milliseconds of each of `runs` awaits of `action`."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]

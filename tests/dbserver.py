"""The PostgreSQL the tests use: TEST_DATABASE_URL, or an embedded server of their own."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import asyncpg

from server.db.embedded import embedded_database_url
from server.settings import PROJECT_ROOT


def server_url() -> str:
    """URL of a maintenance database (postgres) on the test server."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return configured
    data_dir = Path(os.environ.get("TEST_EMBEDDED_DIR", PROJECT_ROOT / "var" / "test-pgdata"))
    return embedded_database_url(data_dir, database="postgres")


def with_database(url: str, database: str) -> str:
    """The same server, another database (works for host:port and socket URLs)."""
    base, _, query = url.partition("?")
    scheme_and_host = base.rsplit("/", 1)[0]
    return f"{scheme_and_host}/{database}" + (f"?{query}" if query else "")


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"


async def create_database(url: str, name: str, *, template: str | None = None) -> None:
    conn = await asyncpg.connect(url)
    try:
        suffix = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await conn.close()


async def drop_database(url: str, name: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()

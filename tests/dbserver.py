"""The PostgreSQL the tests use (TEST_DATABASE_URL, or an embedded server of their own),
its databases, and engines on one of them."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.db.embedded import embedded_database_url
from server.db.engine import create_engine
from server.db.session import session_factory
from server.settings import PROJECT_ROOT, Settings
from tests import log_names

# The databases this process created and has not dropped, each with the access-log
# position its field names were checked up to (tests/log_names.py).
LIVE: dict[str, int] = {}


def server_url() -> str:
    """URL of a maintenance database (postgres) on the test server."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return configured
    data_dir = Path(os.environ.get("TEST_EMBEDDED_DIR", PROJECT_ROOT / "var" / "test-pgdata"))
    url = embedded_database_url(data_dir, database="postgres")
    asyncio.run(_disposable_settings(url))
    return url


async def _disposable_settings(url: str) -> None:
    """The embedded test server holds only throw-away databases: skip durable writes,
    which make every CREATE/DROP DATABASE of the per-test clones cost seconds."""
    conn = await asyncpg.connect(url)
    try:
        for setting in ("fsync", "full_page_writes", "synchronous_commit"):
            await conn.execute(f"ALTER SYSTEM SET {setting} = off")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def with_database(url: str, database: str) -> str:
    """The same server, another database (works for host:port and socket URLs)."""
    base, _, query = url.partition("?")
    scheme_and_host = base.rsplit("/", 1)[0]
    return f"{scheme_and_host}/{database}" + (f"?{query}" if query else "")


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"


async def create_database(
    url: str, name: str, *, template: str | None = None, checked: bool = True
) -> None:
    """A new database; `checked`: its access log is checked as the tests go (not for the
    templates the tests clone, which must have no other connections)."""
    conn = await asyncpg.connect(url)
    try:
        suffix = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await conn.close()
    if checked:
        LIVE[with_database(url, name)] = 0


async def drop_database(url: str, name: str, *, check_log: bool = True) -> None:
    """Drop a database, first checking the field names its access log was given since the
    last check (`check_log=False` for tests that write wrong ones on purpose)."""
    after = LIVE.pop(with_database(url, name), None)
    unknown: list[log_names.LoggedName] = []
    try:
        if check_log and after is not None:
            unknown, _ = await log_names.unknown_names(with_database(url, name), after)
    finally:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
    assert not unknown, log_names.failure(f"database {name}", unknown)


async def check_log_names(where: str) -> None:
    """Fail naming every field name written since the last check into the access log of a
    database still there that is no field of its GraphQL type."""
    unknown: list[log_names.LoggedName] = []
    for database_url, after in list(LIVE.items()):
        found, LIVE[database_url] = await log_names.unknown_names(database_url, after)
        unknown += found
    assert not unknown, log_names.failure(where, unknown)


@asynccontextmanager
async def new_database(
    server: str, prefix: str, *, template: str | None = None, check_log: bool = True
) -> AsyncIterator[str]:
    """A database of its own on `server`, empty or a copy of the database `template`, and
    dropped at the end: its URL (`check_log` as for `drop_database`)."""
    name = unique_name(prefix)
    await create_database(server, name, template=template)
    try:
        yield with_database(server, name)
    finally:
        await drop_database(server, name, check_log=check_log)


APPEND_ONLY_PREFIXES = ("access_log", "auth_event")


async def empty_tables(url: str) -> None:
    """Delete every row of the mutable tables (the append-only logs are left alone)."""
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            """
            SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
              AND NOT c.relispartition AND c.relname <> 'alembic_version'
            """
        )
        names = [r["relname"] for r in tables if not r["relname"].startswith(APPEND_ONLY_PREFIXES)]
        async with conn.transaction():
            # Foreign keys are not checked while deleting everything in one go.
            await conn.execute("SET LOCAL session_replication_role = replica")
            for name in names:
                await conn.execute(f'DELETE FROM "{name}"')
    finally:
        await conn.close()


@dataclass
class Database:
    """A test database with engines as its owner (as the command line runs) and as the
    restricted runtime role (as the service runs)."""

    url: str
    settings: Settings
    owner_engine: AsyncEngine
    app_engine: AsyncEngine

    @classmethod
    def open(cls, url: str, settings: Settings) -> Database:
        return cls(
            url,
            settings,
            create_engine(url, settings, as_app_role=False),
            create_engine(url, settings, as_app_role=True),
        )

    async def close(self) -> None:
        await self.app_engine.dispose()
        await self.owner_engine.dispose()

    @property
    def owner(self) -> async_sessionmaker[AsyncSession]:
        """Sessions as the database owner."""
        return session_factory(self.owner_engine)

    @property
    def app(self) -> async_sessionmaker[AsyncSession]:
        """Sessions as the restricted runtime role."""
        return session_factory(self.app_engine)

    @asynccontextmanager
    async def owner_session(self) -> AsyncIterator[AsyncSession]:
        """A session as the owner in a transaction, committed at the end."""
        async with self.owner() as session, session.begin():
            yield session

    @asynccontextmanager
    async def app_session(self) -> AsyncIterator[AsyncSession]:
        """A session as the runtime role in a transaction, committed at the end."""
        async with self.app() as session, session.begin():
            yield session

    def settings_with(self, **changes: Any) -> Settings:
        return self.settings.model_copy(update=changes)

    async def sql(self, statement: str, *args: Any) -> list[asyncpg.Record]:
        """Run SQL as the owner (to age rows or read them back)."""
        conn = await asyncpg.connect(self.url)
        try:
            return list(await conn.fetch(statement, *args))
        finally:
            await conn.close()

    async def raw(self) -> asyncpg.Connection:
        """A plain owner (superuser in the tests) connection, for tampering; close it."""
        return await asyncpg.connect(self.url)

"""Run Alembic migrations programmatically on an async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from server.settings import PROJECT_ROOT

MIGRATIONS_DIR: Path = PROJECT_ROOT / "migrations"
SQL_DIR: Path = MIGRATIONS_DIR / "sql"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(conn: AsyncConnection, revision: str = "head") -> None:
    def run(sync_conn: Connection) -> None:
        command.upgrade(alembic_config(sync_conn), revision)

    await conn.run_sync(run)


async def downgrade(conn: AsyncConnection, revision: str) -> None:
    def run(sync_conn: Connection) -> None:
        command.downgrade(alembic_config(sync_conn), revision)

    await conn.run_sync(run)


async def current_revision(conn: AsyncConnection) -> str | None:
    def read(sync_conn: Connection) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    return await conn.run_sync(read)


def read_sql(name: str) -> str:
    """SQL shipped beside the migrations (functions, triggers), by file name."""
    return (SQL_DIR / name).read_text(encoding="utf-8")


def execute_script(sql: str) -> None:
    """Run a multi-statement SQL script inside a migration, in the migration's transaction.

    asyncpg prepares every statement it is given, and a prepared statement holds one
    command; the simple-query protocol of the driver connection runs a whole script.
    """
    from alembic import op
    from sqlalchemy.util import await_only

    connection = op.get_bind().connection.driver_connection
    await_only(connection.execute(sql))  # type: ignore[union-attr]


def run_sql_file(name: str) -> None:
    execute_script(read_sql(name))

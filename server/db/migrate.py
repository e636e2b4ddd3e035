"""Run Alembic migrations programmatically on an async engine; the helpers the revisions use."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
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


def sql_upgrade(name: str) -> Callable[[], None]:
    """A revision's upgrade that is SQL file `name` and nothing else."""
    return _sql_file_step("upgrade", name)


def sql_downgrade(name: str) -> Callable[[], None]:
    """A revision's downgrade that is SQL file `name` and nothing else."""
    return _sql_file_step("downgrade", name)


def _sql_file_step(direction: str, name: str) -> Callable[[], None]:
    def step() -> None:
        run_sql_file(name)

    # Alembic names a step by its function ("Running upgrade 0002 -> 0003").
    step.__name__ = step.__qualname__ = direction
    return step


def function_definition(name: str, function: str) -> str:
    """The statement of SQL file `name` that creates `function` (from its CREATE line to the
    line `$$;` that closes the body), as CREATE OR REPLACE: a downgrade puts back an earlier
    revision's function from that revision's own file, not from a copy of it."""
    pattern = rf"^CREATE (?:OR REPLACE )?FUNCTION {re.escape(function)}\(.*?^\$\$;$"
    found = re.findall(pattern, read_sql(name), flags=re.DOTALL | re.MULTILINE)
    if len(found) != 1:
        raise LookupError(f"{name} creates {function} {len(found)} times, not once")
    return re.sub(r"^CREATE (?:OR REPLACE )?FUNCTION", "CREATE OR REPLACE FUNCTION", found[0])


# CREATE OR REPLACE drops a function's settings; a function that runs as its owner gets
# back what every such function of the register has: it sees only the migration's schema
# and the catalogue, never a temporary table of its caller.
CONFINE_OWNER_FUNCTIONS = """
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace AND p.prosecdef
          AND p.proname = ANY (string_to_array('{names}', ' '))
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_catalog, pg_temp',
                       fn, current_schema());
    END LOOP;
END
$$;
"""


def restore_functions(name: str, *functions: str) -> None:
    """Define these functions again as SQL file `name` does, for a downgrade that puts back
    an earlier revision's functions. CREATE OR REPLACE keeps a function's owner and rights;
    the settings a later revision gave it go, and the SECURITY DEFINER ones are confined to
    the schema again (CONFINE_OWNER_FUNCTIONS)."""
    definitions = [function_definition(name, function) for function in functions]
    confine = CONFINE_OWNER_FUNCTIONS.format(names=" ".join(functions))
    execute_script("\n\n".join([*definitions, confine]))


def timestamp_now(name: str) -> sa.Column[datetime]:
    """A column of a revision's table: a point in time (with time zone, never NULL) that
    defaults to the time of the insert."""
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )

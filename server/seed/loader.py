"""Write the generated seed rows into PostgreSQL with COPY, in one transaction."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import asyncpg

from server.cli_progress import NO_PROGRESS, Advance, Progress, counted
from server.seed.generator import SeedData, SeedSummary, TableRows, generate

__all__ = ["SeedError", "load", "seed_database"]


class SeedError(RuntimeError):
    """The database cannot be seeded (for instance it already holds customers)."""


# Tables with at least this many rows are loaded without their foreign keys, which
# are added back (and so validated in one pass) right after the COPY: checking every
# row through the FK trigger costs more than the COPY itself. The same goes for a
# primary key that no foreign key references (consumption's): building its index once
# after the COPY costs the server about half of maintaining it row by row.
BULK_ROWS = 20_000


async def _copy(conn: asyncpg.Connection, table: TableRows, advance: Advance | None) -> None:
    """COPY the table's rows; `advance` (when a bar is drawn) follows them as they go."""
    rows = table.rows if advance is None else counted(table.rows, advance)
    await conn.copy_records_to_table(table.table, records=rows, columns=list(table.columns))


async def _copy_without_constraints(
    conn: asyncpg.Connection, table: TableRows, advance: Advance | None
) -> None:
    """COPY with the table's foreign keys (and unreferenced primary key) dropped.

    They are re-created identically (same names and definitions) right after, which
    validates every row. The drop and the re-creation are in the caller's transaction:
    other sessions never see the table without its constraints, and a failure
    restores them.
    """
    constraints = await conn.fetch(
        "SELECT c.conname, pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c"
        " WHERE c.conrelid = $1::regclass AND (c.contype = 'f' OR (c.contype = 'p'"
        "  AND NOT EXISTS (SELECT 1 FROM pg_constraint r"
        "   WHERE r.contype = 'f' AND r.confrelid = c.conrelid)))"
        " ORDER BY c.contype DESC, c.conname",  # the primary key first when re-adding
        table.table,
    )
    name = _ident(table.table)
    for constraint in constraints:
        await conn.execute(f"ALTER TABLE {name} DROP CONSTRAINT {_ident(constraint['conname'])}")
    await _copy(conn, table, advance)
    for constraint in constraints:
        await conn.execute(
            f"ALTER TABLE {name} ADD CONSTRAINT {_ident(constraint['conname'])} "
            f"{constraint['definition']}"
        )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def load(conn: asyncpg.Connection, data: SeedData, progress: Progress = NO_PROGRESS) -> None:
    """COPY every table of ``data`` (in foreign-key order) and move the number sequences.

    Runs on the caller's transaction; use `seed_database` for the checks around it.
    """
    total = sum(table.count for table in data.tables)
    with progress.stage("writing", total=total, unit="rows") as step:
        advance = step if progress.enabled else None
        for table in data.tables:
            if table.count == 0:
                continue
            if table.count >= BULK_ROWS:
                await _copy_without_constraints(conn, table, advance)
            else:
                await _copy(conn, table, advance)
    for (table_name, column), highest in data.max_numbers.items():
        # Explicit numbers do not advance an identity column's sequence: move it past them.
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence($1, $2), $3)", table_name, column, highest
        )


async def seed_database(
    conn: asyncpg.Connection,
    *,
    customers: int,
    seed: int,
    today: date,
    consumption_share: float = 0.05,
    progress: Progress = NO_PROGRESS,
) -> SeedSummary:
    """Fill an empty, migrated register with deterministic seed data.

    ``conn`` is a plain asyncpg connection as the database owner. The same ``seed``
    and ``today`` always give the same rows. Everything is written in one transaction
    (a savepoint if the caller already opened one) with COPY; a database that already
    holds customers is refused with `SeedError`. ``consumption_share`` is the share of
    sites that get a year of hourly consumption (at least one site when there are
    customers).
    """
    if customers < 0:
        raise ValueError("customers must not be negative")
    async with conn.transaction():
        # COPY of millions of rows outlasts any request-sized statement timeout.
        await conn.execute("SET LOCAL statement_timeout = 0")
        # Keep concurrent writers out while we check and fill.
        await conn.execute("LOCK TABLE customer IN SHARE ROW EXCLUSIVE MODE")
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM customer)"):
            raise SeedError(
                "refusing to seed: the customer table is not empty "
                "(seed only a freshly migrated database)"
            )
        existing: dict[str, uuid.UUID] = {
            row["code"]: row["id"] for row in await conn.fetch("SELECT code, id FROM organisation")
        }
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM product)"):
            raise SeedError("refusing to seed: the product table is not empty")
        # Generation is CPU-bound (seconds for thousands of customers): keep the loop free.
        data = await asyncio.to_thread(
            generate,
            customers=customers,
            seed=seed,
            today=today,
            consumption_share=consumption_share,
            existing_organisations=existing,
            progress=progress,
        )
        await load(conn, data, progress)
    return data.summary

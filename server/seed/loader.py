"""Write the generated seed rows into PostgreSQL with COPY, in one transaction."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from server.seed.generator import SeedData, SeedSummary, generate

__all__ = ["SeedError", "load", "seed_database"]


class SeedError(RuntimeError):
    """The database cannot be seeded (for instance it already holds customers)."""


async def load(conn: asyncpg.Connection, data: SeedData) -> None:
    """COPY every table of ``data`` (in foreign-key order) and move the number sequences.

    Runs on the caller's transaction; use `seed_database` for the checks around it.
    """
    for table in data.tables:
        if table.count == 0:
            continue
        await conn.copy_records_to_table(
            table.table, records=table.rows, columns=list(table.columns)
        )
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
        data = generate(
            customers=customers,
            seed=seed,
            today=today,
            consumption_share=consumption_share,
            existing_organisations=existing,
        )
        await load(conn, data)
    return data.summary

"""Revision 0008 turns consumption values into one row per site, resolution and UTC day,
and back on downgrade, without losing or moving a value; it refuses values that start no
step of their resolution."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from server.db.engine import asyncpg_url
from tests import dbserver, factories
from tests.conftest import downgrade_to, upgrade_to
from tests.import_files import utc

VALUES = "SELECT site_id, resolution, period_start, energy_kwh, quality FROM {} ORDER BY 1, 2, 3"


@pytest.fixture
async def at_0007(server_url: str) -> AsyncIterator[tuple[str, Any]]:
    async with dbserver.new_database(server_url, "rk_imports_0007") as url:
        engine = create_async_engine(asyncpg_url(url))
        try:
            await upgrade_to(engine, "0007")
            yield url, engine
        finally:
            await engine.dispose()


async def per_value_rows(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
    customer = await factories.customer(conn)
    site = await factories.site(conn, customer_id=customer["id"])
    start = utc(2025, 12, 31, 20)  # across a UTC midnight
    rows = [
        (site["id"], "PT1H", start + timedelta(hours=h), Decimal("1.25") + h, "measured")
        for h in range(6)
        if h != 3  # a gap
    ]
    rows += [
        (site["id"], "PT15M", start + timedelta(minutes=15 * q), Decimal("0.3"), q_quality)
        for q, q_quality in ((0, "estimated"), (1, "revised"), (7, "measured"))
    ]
    await conn.executemany(
        "INSERT INTO consumption (site_id, resolution, period_start, energy_kwh, quality)"
        " VALUES ($1, $2, $3, $4, $5)",
        rows,
    )
    return sorted(rows)


async def test_values_survive_the_upgrade_and_the_downgrade(at_0007: tuple[str, Any]) -> None:
    url, engine = at_0007
    conn = await asyncpg.connect(url)
    try:
        before = await per_value_rows(conn)
        await upgrade_to(engine)
        assert [tuple(r) for r in await conn.fetch(VALUES.format("consumption_value"))] == before
        days = await conn.fetch(
            "SELECT resolution, day, cardinality(energy_kwh) AS steps, quality FROM consumption"
            " ORDER BY 1, 2"
        )
        assert [(d["resolution"], str(d["day"]), d["steps"]) for d in days] == [
            ("PT15M", "2025-12-31", 96),
            ("PT1H", "2025-12-31", 24),
            ("PT1H", "2026-01-01", 24),
        ]
        assert days[0]["quality"][80:88] == "er-----m"  # 20:00, 20:15 and 21:45 UTC
        await downgrade_to(engine, "0007")
        assert [tuple(r) for r in await conn.fetch(VALUES.format("consumption"))] == before
    finally:
        await conn.close()


async def test_a_value_off_its_steps_stops_the_upgrade(at_0007: tuple[str, Any]) -> None:
    url, engine = at_0007
    conn = await asyncpg.connect(url)
    try:
        await per_value_rows(conn)
        site_id = await conn.fetchval("SELECT id FROM site")
        await conn.execute(
            "INSERT INTO consumption (site_id, resolution, period_start, energy_kwh)"
            " VALUES ($1, 'PT1H', $2, 1)",
            site_id,
            utc(2026, 2, 1, 10, 30),
        )
        with pytest.raises(Exception, match="do not start a step"):
            await upgrade_to(engine)
        assert await conn.fetchval("SELECT count(*) FROM consumption") == 9
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == "0007"
    finally:
        await conn.close()

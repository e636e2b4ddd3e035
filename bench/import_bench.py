"""Throughput of the metering-data import: the reference file (a year of hourly values for
1,000 sites, 8.76 million values; bench/consumption_file.py) loaded as `rekisteri import
consumption` loads it (runtime role, access log, source record, provenance), into a
database of its own that holds the 1,000 sites.

    .venv/bin/python bench/import_bench.py
        [--url postgresql://postgres@127.0.0.1:5432/rk_import_bench]
        [--file var/bench/consumption-2025.csv] [--sites 1000]

Two runs: the first import (every value new) and the same file again (every value
compared and left alone). Reports wall time, the importing process's CPU time and values
per second; the machine's load average before and after, since the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.consumption_file import site_gsrn, write
from bench.measure import ensure_database
from server.db.engine import create_engine
from server.db.migrate import upgrade
from server.db.session import session_factory
from server.imports.cli import operator_caller
from server.imports.models import ImportKind
from server.imports.service import ImportOptions, ImportResult, run_import
from server.settings import PROJECT_ROOT, Settings

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/rk_import_bench"
DEFAULT_FILE = PROJECT_ROOT / "var" / "bench" / "consumption-2025.csv"


async def prepare(url: str, sites: int) -> None:
    """Create the database if needed, migrate it, and hold exactly the bench's sites with no
    consumption."""
    await ensure_database(url)
    settings = Settings(database_url=url)
    engine = create_engine(url, settings, as_app_role=False)
    try:
        async with engine.begin() as conn:
            await upgrade(conn)
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("TRUNCATE consumption, import_provenance, import_source")
        have = await conn.fetchval(
            "SELECT count(*) FROM site WHERE metering_point_id LIKE '6430099%'"
        )
        if have < sites:
            await add_sites(conn, have, sites)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def add_sites(conn: asyncpg.Connection, first: int, last: int) -> None:
    customers, sites = [], []
    for number in range(first, last):
        customer_id = uuid.uuid4()
        customers.append(
            (
                customer_id,
                "organisation",
                f"Mittari Oy {number}",
                "Mittarikatu 1",
                "34800",
                "Virrat",
            )
        )
        sites.append(
            (uuid.uuid4(), customer_id, site_gsrn(number), "Mittarikatu 1", "34800", "Virrat",
             "business_premises", "owned", "direct_electric", "3x25A", f"LI-{number}",
             "Koillis-Satakunnan Sähköverkko")
        )  # fmt: skip
    await conn.copy_records_to_table(
        "customer",
        records=customers,
        columns=["id", "kind", "organisation_name", "street_address", "postal_code", "post_office"],
    )
    await conn.copy_records_to_table(
        "site",
        records=sites,
        columns=["id", "customer_id", "metering_point_id", "street_address", "postal_code",
                 "post_office", "housing_type", "ownership", "heating_type", "main_fuse",
                 "connection_id", "grid_operator"],
    )  # fmt: skip


async def timed_import(url: str, path: Path) -> tuple[ImportResult, float, float]:
    settings = Settings(database_url=url)
    engine = create_engine(url, settings)
    try:
        sessionmaker = session_factory(engine)
        caller = await operator_caller(settings, sessionmaker, kind=ImportKind.CONSUMPTION)
        started, cpu = time.perf_counter(), time.process_time()
        result = await run_import(
            sessionmaker=sessionmaker,
            caller=caller,
            kind=ImportKind.CONSUMPTION,
            path=path,
            file_name=path.name,
            options=ImportOptions(source="benchmark"),
        )
        return result, time.perf_counter() - started, time.process_time() - cpu
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--sites", type=int, default=1000)
    args = parser.parse_args()
    if not args.file.exists():
        args.file.parent.mkdir(parents=True, exist_ok=True)
        print(f"writing the reference file {args.file} ...", flush=True)
        write(args.file, sites=args.sites, year=2025)
    await prepare(args.url, args.sites)
    size = args.file.stat().st_size
    print(f"file: {size:,} bytes; load average before: {os.getloadavg()[0]:.2f}")
    print("| run | rows | values | added | unchanged | gaps | wall s | import CPU s | values/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label in ("first import (every value new)", "the same file again (every value equal)"):
        result, wall, cpu = await timed_import(args.url, args.file)
        counts = result.counts
        assert result.outcome == "written", result.rejects[:5]
        print(
            f"| {label} | {result.rows_total:,} | {counts['values']:,} | "
            f"{counts['valuesAdded']:,} | {counts['valuesUnchanged']:,} | {counts['gaps']:,} | "
            f"{wall:.1f} | {cpu:.1f} | {counts['values'] / wall:,.0f} |",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())

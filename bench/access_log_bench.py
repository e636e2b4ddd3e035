"""What the access log costs a request: write_access_log for 1, 100 and 3000 objects.

Each write runs in its own transaction as the runtime role and is committed (fsync as
configured on the server), as in the GraphQL endpoint. The figure that matters is the
difference to the same transaction without the log write ("baseline": one trivial
statement and the commit). Also reported: building the parameters in Python, database
statements per write, and the cost of sealing and verifying what was written.

    .venv/bin/python bench/access_log_bench.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--iterations 200] [--sizes 1,100,3000]

It creates a scratch database, migrates it and drops it at the end. Absolute figures
drift between runs on shared machines; compare the columns of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from measure import DEFAULT_URL, bench_settings, database_url, p50, p95, page_record, timed
from sqlalchemy import text

from server.audit.records import ObjectAccess
from server.audit.seal import seal_pending
from server.audit.service import object_parameters, write_access_log
from server.audit.verify import verify
from server.db.engine import create_engine
from server.db.migrate import upgrade
from server.db.session import StatementCounter, session_factory


def page(objects: int) -> list[ObjectAccess]:
    """A page shaped like the reference page: customers, each with nested objects."""
    found: list[ObjectAccess] = []
    customer_id = uuid.uuid4()
    for index in range(objects):
        if index % 29 == 0:
            customer_id = uuid.uuid4()
            item = ObjectAccess("Customer", str(customer_id), customer_id, None, "read")
            item.fields_read.update({"id", "customerNumber", "lastName", "email", "sites"})
            item.fields_masked.add("personalIdentityCode")
        else:
            item = ObjectAccess("Invoice", str(uuid.uuid4()), customer_id, None, "read")
            item.fields_read.update({"id", "invoiceNumber", "status", "totalInclVat", "dueDate"})
        found.append(item)
    return found


def describe(samples: list[float]) -> str:
    mean = statistics.fmean(samples)
    return f"p50 {p50(samples):7.2f}  mean {mean:7.2f}  p95 {p95(samples):7.2f}"


async def main(url: str, iterations: int, sizes: list[int]) -> None:
    name = f"rk_audit_bench_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    db_url = database_url(url, name)
    settings = bench_settings(db_url, statement_timeout_ms=600_000)
    owner = create_engine(db_url, settings, as_app_role=False)
    app = create_engine(db_url, settings)
    try:
        async with owner.begin() as conn:
            await upgrade(conn)
        sessions = session_factory(app)
        counter = StatementCounter(app)
        server = await admin.fetchval("SHOW server_version")
        fsync = await admin.fetchval("SHOW fsync")
        commit = await admin.fetchval("SHOW synchronous_commit")
        print(f"PostgreSQL {server}, fsync={fsync}, synchronous_commit={commit}, {iterations} runs")

        async def baseline() -> None:
            async with sessions() as session, session.begin():
                await session.execute(text("SELECT 1"))

        for _ in range(20):  # warm the pool and the prepared statements
            await baseline()
            async with sessions() as session, session.begin():
                await write_access_log(session, page_record(), page(10))

        rows = []
        base_samples = await timed(iterations, baseline)
        print(f"{'baseline (SELECT 1 + commit)':34} {describe(base_samples)} ms")
        for size in sizes:
            objects = page(size)
            runs = iterations if size <= 100 else max(20, iterations // 4)

            statement_ms: list[float] = []

            async def write(
                objects: list[ObjectAccess] = objects, statement_ms: list[float] = statement_ms
            ) -> None:
                async with sessions() as session, session.begin():
                    started = time.perf_counter()
                    await write_access_log(session, page_record(), objects)
                    statement_ms.append((time.perf_counter() - started) * 1000)

            before = counter.count
            samples = await timed(runs, write)
            statements = (counter.count - before) / runs
            python = await timed(runs, _python(objects))
            overhead = statistics.median(samples) - statistics.median(base_samples)
            rows.append((size, statistics.median(samples), overhead, statements))
            print(f"{f'write_access_log, {size} objects':34} {describe(samples)} ms")
            print(
                f"{'':34} over baseline {overhead:6.2f} ms, {statements:.0f} statement(s), "
                f"of which the statement p50 {statistics.median(statement_ms):.2f} ms "
                f"(parameters in Python {statistics.median(python):.2f} ms), the rest commit"
            )

        total = await admin_count(db_url)
        async with sessions() as session, session.begin():
            started = time.perf_counter()
            result = await seal_pending(session=session, settings=settings, wait_seconds=10)
            sealed = time.perf_counter() - started
        leaves = result.leaf_count if result else 0
        rate = leaves / max(sealed, 1e-9)
        print(f"seal: {leaves} rows in {sealed * 1000:.0f} ms ({rate:,.0f} rows/s)")
        async with session_factory(owner)() as session, session.begin():
            started = time.perf_counter()
            report = await verify(session=session, settings=settings)
            checked = time.perf_counter() - started
        print(
            f"verify: {report.rows_checked} of {total} rows in {checked * 1000:.0f} ms "
            f"({report.rows_checked / max(checked, 1e-9):,.0f} rows/s), ok={report.ok}"
        )
        print()
        print("| objects per request | write p50 (ms) | over baseline (ms) | statements |")
        print("|---|---|---|---|")
        for size, median, overhead, statements in rows:
            print(f"| {size} | {median:.2f} | {overhead:.2f} | {statements:.0f} |")
    finally:
        await owner.dispose()
        await app.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _python(objects: list[ObjectAccess]) -> Callable[[], Awaitable[None]]:
    async def build() -> None:
        object_parameters(objects)

    return build


async def admin_count(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        count: int = await conn.fetchval(
            "SELECT (SELECT count(*) FROM access_log_request)"
            " + (SELECT count(*) FROM access_log_object)"
        )
        return count
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", default=DEFAULT_URL, help="maintenance database of the server")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--sizes", default="1,100,3000")
    options = parser.parse_args()
    asyncio.run(main(options.url, options.iterations, [int(s) for s in options.sizes.split(",")]))

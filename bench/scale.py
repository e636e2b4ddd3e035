"""Figures for docs/scaling.md on a large seeded database (ten times the benchmark seed).

    .venv/bin/python bench/scale.py --database postgresql://postgres@127.0.0.1:5432/rk_scale

The database must be seeded already (`rekisteri seed --customers 100000 --seed 42`). It
prints, as Markdown:

1. the rows and on-disk size (heap, indexes and TOAST) of the largest tables;
2. consumption aggregated per site and year in SQL (twelve monthly sums of a year of
   hourly values, as the owner), p50/p95 over --samples sites;
3. the same through GraphQL (`site { consumption(resolution: MONTH|DAY) }`, role billing),
   against `rekisteri serve --workers 2` in production mode with fresh keys;
4. `Customer.accessHistory` (role administrator) for customers that were read often (the
   first page of customers, which every benchmark reads) and for others, with the number of
   entries each history has.

With `--day-rows N` it also stores the hourly values of N sites as one row per site and
day with 96 quarter-hour values (each hour split in four) in a scratch table, prints the
bytes a value costs there and the same monthly aggregation, and drops the table
(docs/scaling.md, "one row per site and day").

Run `bench/side_by_side.py --peers compiled,floor` on the same database first for Q3 and
Q1 (it also fills the access log that section 4 reads).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from side_by_side import (
    ROOT,
    SERVE,
    Processes,
    cli,
    percentile,
    post,
    signing_key,
    wait_until,
)

TABLES = (
    "consumption",
    "invoice_line",
    "invoice",
    "payment",
    "contract",
    "site",
    "customer",
    "change_record",
    "access_log_request",
    "access_log_subject",
)
MONTHLY = """
SELECT date_trunc('month', period_start AT TIME ZONE 'Europe/Helsinki') AS month,
       sum(energy_kwh) AS kwh
FROM consumption
WHERE site_id = $1 AND resolution = 'PT1H' AND period_start >= $2 AND period_start < $3
GROUP BY 1 ORDER BY 1
"""
CONSUMPTION = """
query Consumption($id: ID!, $from: DateTime!, $to: DateTime!, $resolution: ConsumptionResolution!) {
  site(id: $id) { id consumption(from: $from, to: $to, resolution: $resolution) {
    periodStart energyKwh valuesCount } }
}
"""
DAY_ROWS = """
CREATE TABLE scratch_consumption_day (
    site_id uuid NOT NULL,
    day date NOT NULL,
    wh int4[] NOT NULL,
    estimated bytea NOT NULL,
    PRIMARY KEY (site_id, day)
);
WITH sites AS (SELECT DISTINCT site_id FROM consumption WHERE resolution = 'PT1H' LIMIT {sites})
INSERT INTO scratch_consumption_day
SELECT c.site_id, (c.period_start AT TIME ZONE 'Europe/Helsinki')::date,
       array_agg(q.wh ORDER BY c.period_start, q.n), '\\x000000000000000000000000'::bytea
FROM consumption c JOIN sites s USING (site_id)
CROSS JOIN LATERAL (
    SELECT n, (c.energy_kwh * 1000 / 4)::int4 AS wh FROM generate_series(1, 4) AS n
) q
WHERE c.resolution = 'PT1H'
GROUP BY 1, 2;
ANALYZE scratch_consumption_day;
"""
DAY_SIZE = """
SELECT count(*) AS rows, sum(cardinality(wh)) AS values,
       pg_total_relation_size('scratch_consumption_day') AS bytes
FROM scratch_consumption_day
"""
DAY_MONTHLY = """
SELECT date_trunc('month', day) AS month, sum(v)::bigint AS wh
FROM scratch_consumption_day, unnest(wh) AS v
WHERE site_id = $1 AND day >= $2::date AND day < $3::date
GROUP BY 1 ORDER BY 1
"""
HISTORY = """
query History($id: ID!) {
  customer(id: $id) {
    id
    accessHistory(first: 20) {
      totalCount
      edges { node { at purpose operations dataCategories } }
    }
  }
}
"""


def stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"{statistics.median(ordered):.1f} | {percentile(ordered, 0.95):.1f} | {ordered[-1]:.1f}"


async def sizes(conn: asyncpg.Connection) -> list[str]:
    await conn.execute("ANALYZE access_log_request, access_log_subject")
    lines = ["| table | rows (estimate) | size |", "|---|---|---|"]
    for table in TABLES:
        row = await conn.fetchrow(
            "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint AS rows,"
            " coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes"
            " FROM (SELECT relid FROM pg_partition_tree($1::regclass)"
            "       UNION SELECT $1::regclass) t"
            " JOIN pg_class c ON c.oid = t.relid",
            table,
        )
        lines.append(f"| {table} | {row['rows']:,} | {row['bytes'] / 2**20:,.0f} MiB |")
    total = await conn.fetchval("SELECT pg_database_size(current_database())")
    lines.append(f"| (database) | | {total / 2**20:,.0f} MiB |")
    return lines


async def timed(calls: list[Callable[[], Awaitable[Any]]]) -> list[float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def day_rows(conn: asyncpg.Connection, sites: int, samples: int) -> list[str]:
    """The day-row layout on a scratch copy of `sites` sites' year: size and aggregation."""
    await conn.execute("SET statement_timeout = 0")
    await conn.execute("DROP TABLE IF EXISTS scratch_consumption_day")
    await conn.execute(DAY_ROWS.format(sites=int(sites)))
    try:
        size = await conn.fetchrow(DAY_SIZE)
        picked = [
            r["site_id"]
            for r in await conn.fetch(
                "SELECT DISTINCT site_id FROM scratch_consumption_day LIMIT $1", samples
            )
        ]
        first, last = await conn.fetchrow(
            "SELECT min(day), max(day) + 1 FROM scratch_consumption_day"
        )
        await conn.fetch(DAY_MONTHLY, picked[0], first, last)
        times = await timed([lambda s=s: conn.fetch(DAY_MONTHLY, s, first, last) for s in picked])
    finally:
        await conn.execute("DROP TABLE IF EXISTS scratch_consumption_day")
    per_value = size["bytes"] / size["values"]
    return [
        f"\nOne row per site and day ({size['rows']:,} rows, {size['values']:,} values): "
        f"{per_value:.1f} bytes a value\n",
        "| how | p50 ms | p95 ms | max ms |\n|---|---|---|---|",
        f"| SQL: monthly sums of 35,040 quarter hours from 365 day rows | {stats(times)} |",
    ]


async def sql_monthly(
    conn: asyncpg.Connection, sites: list[Any], year: tuple[datetime, datetime]
) -> list[float]:
    await conn.fetch(MONTHLY, sites[0], *year)  # warm the plan
    return await timed([lambda s=s: conn.fetch(MONTHLY, s, *year) for s in sites])


def start_service(database: str, port: int, workdir: Path, processes: Processes) -> str:
    env = {
        "DATABASE_URL": database,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "AUDIT_SEAL_KEY": secrets.token_urlsafe(48),
        "AUDIT_SIGNING_KEY": signing_key(),
        "ACCESS_TOKEN_TTL_SECONDS": "3600",
    }
    argv = [*SERVE, "server.app:create_app", "--port", str(port), "--workers", "2"]
    log = workdir / "rekisteri.log"
    process = processes.start("rekisteri", argv, env={**os.environ, **env}, cwd=ROOT, log=log)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)

    wait_until(ready, process, log, 120)
    return base


def login(database: str, base: str, role: str, purpose: str) -> dict[str, str]:
    username = f"bench-scale-{role}"
    password = secrets.token_urlsafe(24)
    if cli(database, "user", "add", username, "--role", role, stdin=password).returncode != 0:
        cli(database, "user", "set-password", username, stdin=password)
    token = post(f"{base}/auth/token", {"username": username, "password": password})
    assert token.status == 200, token.body[:200]
    return {"Authorization": f"Bearer {token.json()['access_token']}", "X-Purpose": purpose}


def graphql_times(
    base: str, headers: dict[str, str], bodies: list[dict[str, Any]]
) -> tuple[list[float], list[Any]]:
    samples, answers = [], []
    post(f"{base}/graphql", bodies[0], headers)  # warm the caches
    for body in bodies:
        started = time.perf_counter()
        reply = post(f"{base}/graphql", body, headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert reply.status == 200 and "errors" not in reply.json(), reply.body[:300]
        answers.append(reply.json()["data"])
    return samples, answers


async def main(args: argparse.Namespace) -> None:
    conn = await asyncpg.connect(args.database)
    try:
        print("## Sizes\n")
        print("\n".join(await sizes(conn)))
        end = (await conn.fetchval("SELECT max(period_start) FROM consumption")).replace(
            minute=0, second=0, microsecond=0
        )
        year = (end - timedelta(days=365), end)
        sites = [
            r["site_id"]
            for r in await conn.fetch(
                "SELECT DISTINCT site_id FROM consumption TABLESAMPLE SYSTEM (1) LIMIT $1",
                args.samples,
            )
        ]
        customers = await conn.fetch(
            "SELECT id, customer_number FROM customer ORDER BY customer_number"
        )
        monthly = await sql_monthly(conn, sites, year)
        compact = await day_rows(conn, args.day_rows, args.samples) if args.day_rows else []
    finally:
        await conn.close()
    print(
        f"\n## Consumption per site-year ({len(sites)} sites, {year[0]:%Y-%m-%d}..{year[1]:%Y-%m-%d})\n"
    )
    print("| how | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
    print(f"| SQL: 12 monthly sums of 8,760 hourly values | {stats(monthly)} |")

    processes = Processes()
    with tempfile.TemporaryDirectory(prefix="scale-") as scratch:
        try:
            base = start_service(args.database, args.port, Path(scratch), processes)
            billing = login(args.database, base, "billing", "billing")
            for resolution in ("MONTH", "DAY"):
                bodies = [
                    {
                        "query": CONSUMPTION,
                        "variables": {
                            "id": str(site),
                            "from": year[0].isoformat(),
                            "to": year[1].isoformat(),
                            "resolution": resolution,
                        },
                    }
                    for site in sites
                ]
                times, answers = graphql_times(base, billing, bodies)
                points = len(answers[0]["site"]["consumption"])
                print(f"| GraphQL, {resolution} ({points} points) | {stats(times)} |")

            admin = login(args.database, base, "administrator", "customer_relationship")
            print("\n## Customer.accessHistory\n")
            print(
                "| customers | entries (median) | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|"
            )
            groups = (
                ("read by every benchmark page (first 100)", customers[: args.samples]),
                ("others", customers[len(customers) // 2 :][: args.samples]),
            )
            for label, group in groups:
                bodies = [{"query": HISTORY, "variables": {"id": str(c["id"])}} for c in group]
                times, answers = graphql_times(base, admin, bodies)
                entries = statistics.median(
                    (a["customer"]["accessHistory"] or {}).get("totalCount", 0) for a in answers
                )
                print(f"| {label} | {entries:,.0f} | {stats(times)} |")
        finally:
            processes.stop_all()
    print("\n".join(compact))
    print(f"\nmeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/rk_scale")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--port", type=int, default=8768)
    parser.add_argument("--day-rows", type=int, default=0, metavar="SITES")
    sys.exit(asyncio.run(main(parser.parse_args())))

"""The security console's access-log search on a large log: the whole path (the GraphQL
operation through the runner, the policy, the page of 25 requests with their objects, and
the search's own access-log record, committed) and the SQL function alone, per filter.

    .venv/bin/python bench/console_search.py --database <kept database> [--url ...]
        [--runs 20]

The database is one kept by `bench/access_log_scale.py --keep` (10 million log rows:
1 million requests of 500 principals, three purposes, over three months, each with nine
data subjects of 10,000). Its times of day do not follow the positions; `--correlated N`
first appends N requests whose time grows with their position, as a real log's does, in
the month after the generated ones, for the time-range cases.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from measure import DEFAULT_URL, GENERATED_REQUESTS, bench_settings, database_url, p50, p95

from server.app import create_app
from server.audit.records import EventKind
from server.authz.principal import Principal, PrincipalKind
from server.console.service import OBJECTS_OF_ONE_REQUEST, PAGE_SIZE, SEARCH_DOCUMENT
from server.operations.runner import Operation

SQL = """
SELECT * FROM access_log_page(
    $1, NULL, $8, $2, $3, $4, $5, $6, '{seq}', '{true}', NULL, NULL, false, $7)
"""

CORRELATED = (
    """
WITH requests AS (
    SELECT g, gen_random_uuid() AS request_id,
           $3::timestamptz + (g - $1) * $5::interval AS at
    FROM generate_series($1::bigint, $2::bigint) AS g
), req AS (
"""
    + GENERATED_REQUESTS
    + """           '[{"type": "Customer", "operation": "read", "read": ["id", "lastName"],
              "masked": ["personalIdentityCode"], "denied": []}]'::jsonb
    FROM requests
)
INSERT INTO access_log_subject (at, request_id, subject_customer_id, object_ids, object_sets)
SELECT r.at, r.request_id,
       ('00000000-0000-4000-8000-' || lpad((r.g * 7919 % $4)::text, 12, '0'))::uuid,
       ARRAY[gen_random_uuid()], '{1}'
FROM requests r
"""
)


async def correlated_range(owner: asyncpg.Connection) -> tuple[datetime, datetime] | None:
    """The times of the requests `--correlated` appended (this run or an earlier one)."""
    found = await owner.fetchrow(
        "SELECT min(at) AS start, max(at) AS end FROM access_log_request"
        " WHERE operation_name = 'CustomerPage' AND jsonb_array_length(field_sets) = 1"
    )
    if found is None or found["start"] is None:
        return None
    return found["start"], found["end"]


def customer(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"


async def timed(runs: int, action: Callable[[], Awaitable[Any]]) -> tuple[list[float], Any]:
    """Milliseconds of `runs` awaits of `action` after three to warm up, and the last result."""
    result = None
    for _ in range(3):
        result = await action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, result


async def append_correlated(owner: asyncpg.Connection, count: int) -> None:
    """`count` requests spread evenly over the month after the generated ones."""
    last = await owner.fetchval("SELECT max(at) FROM access_log_request")
    start = (last + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    await owner.execute("SELECT access_log_ensure_partitions(4)")
    step = timedelta(days=28) / count
    began = time.perf_counter()
    for first in range(0, count, 50_000):
        await owner.execute(
            CORRELATED, first, min(count, first + 50_000) - 1, start + first * step, 10_000, step
        )
    await owner.execute("ANALYZE access_log_request")
    await owner.execute("ANALYZE access_log_subject")
    print(f"appended {count:,} correlated requests in {time.perf_counter() - began:,.0f} s")


def cases(
    months: tuple[datetime, datetime] | None, oldest: datetime, requests: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    middle = oldest + timedelta(days=30, hours=12)
    found: list[tuple[str, dict[str, Any]]] = [
        ("newest (no condition)", {}),
        ("customer", {"customerId": customer(4242)}),
        ("principal", {"principal": "user:123"}),
        ("organisation (every row matches)", {"organisation": "ksat"}),
        ("purpose (a third match)", {"purpose": "billing"}),
        ("one hour, uncorrelated times", {"from": middle, "to": middle + timedelta(hours=1)}),
        ("one request, 27 objects, opened", {"requestId": requests["small"]}),
        ("one request, 2,300 objects, opened (first 500)", {"requestId": requests["large"]}),
        (
            "customer + purpose + one week",
            {
                "customerId": customer(4242),
                "purpose": "billing",
                "from": oldest,
                "to": oldest + timedelta(days=7),
            },
        ),
    ]
    if months is not None:
        start, end = months
        early = start + timedelta(days=2)
        found += [
            (
                "one hour at the start of a month, correlated",
                {"from": early, "to": early + timedelta(hours=1)},
            ),
            (
                "one day at the end of a month, correlated",
                {"from": end - timedelta(days=1), "to": end},
            ),
            (
                "principal in one correlated week",
                {"principal": "user:123", "from": start, "to": start + timedelta(days=7)},
            ),
        ]
    return found


async def search(runner: Any, principal: Principal, variables: dict[str, Any]) -> Any:
    """The console's search operation, as the console runs it (and logs it)."""
    operation = Operation(
        query=SEARCH_DOCUMENT,
        principal=principal,
        purpose="oversight",
        variables=variables,
        client_address="127.0.0.1",
        event=EventKind.CONSOLE,
    )
    answer = (await runner.run(operation)).json()
    assert "errors" not in answer, answer
    return answer


async def sql_alone(app_url: str, chosen: dict[str, Any], runs: int) -> list[float]:
    conn = await asyncpg.connect(app_url)
    try:
        await conn.execute("SET ROLE rekisteri_app")
        arguments = [
            uuid.UUID(chosen["customerId"]) if "customerId" in chosen else None,
            chosen.get("principal"),
            chosen.get("organisation"),
            chosen.get("purpose"),
            chosen.get("from"),
            chosen.get("to"),
            PAGE_SIZE + 1,
            uuid.UUID(chosen["requestId"]) if "requestId" in chosen else None,
        ]
        samples, _ = await timed(runs, lambda: conn.fetch(SQL, *arguments))
        return samples
    finally:
        await conn.close()


async def main(url: str, database: str, runs: int, correlated: int) -> None:
    db_url = database_url(url, database)
    owner = await asyncpg.connect(db_url)
    try:
        if correlated:
            await append_correlated(owner, correlated)
        months = await correlated_range(owner)
        oldest = await owner.fetchval(
            "SELECT min(at) FROM access_log_request WHERE operation_name = 'CustomerPage'"
            " AND executor = 'compiled'"
        )
        requests = {
            size: str(
                await owner.fetchval(
                    "SELECT request_id FROM access_log_request WHERE operation_name ="
                    " 'CustomerPage' AND executor = $1 ORDER BY seq LIMIT 1",
                    executor,
                )
            )
            for size, executor in (("small", "compiled"), ("large", "resolver"))
        }
        rows = await owner.fetchval(
            "SELECT (SELECT count(*) FROM access_log_request) + (SELECT count(*) FROM"
            " access_log_subject) + (SELECT count(*) FROM access_log_object)"
        )
        print(f"log rows: {rows:,}")
    finally:
        await owner.close()

    settings = bench_settings(db_url, audit_sealer=False, statement_timeout_ms=60_000)
    app = create_app(settings)
    principal = Principal(
        PrincipalKind.USER, uuid.uuid4(), "bench-auditor", uuid.uuid4(), "ksat", ("auditor",)
    )
    print(
        "| search | page | objects | console p50 | p95 | access_log_page() p50 | p95 |\n"
        "|---|---|---|---|---|---|---|"
    )
    async with app.router.lifespan_context(app):
        runner = app.state.runner
        for label, chosen in cases(months, oldest, requests):
            variables = {
                "filter": {
                    k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in chosen.items()
                },
                "first": PAGE_SIZE,
                "after": None,
                "objects": OBJECTS_OF_ONE_REQUEST,
                "withObjects": "requestId" in chosen,
            }

            samples, answer = await timed(
                runs, functools.partial(search, runner, principal, variables)
            )
            edges = answer["data"]["accessLog"]["edges"]
            objects = sum(len(e["node"].get("objects") or []) for e in edges)
            sql = await sql_alone(db_url, chosen, runs)
            print(
                f"| {label} | {len(edges)} | {objects} | {p50(samples):.1f} ms | "
                f"{p95(samples):.1f} ms | {p50(sql):.1f} ms | {p95(sql):.1f} ms |"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", default=DEFAULT_URL, help="maintenance database of the server")
    parser.add_argument("--database", required=True, help="a database kept by access_log_scale.py")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--correlated", type=int, default=0, help="requests to append first")
    options = parser.parse_args()
    asyncio.run(main(options.url, options.database, options.runs, options.correlated))

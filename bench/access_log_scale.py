"""The access log's layout 2 at scale: bytes per request, write cost, sealer cost, and
`Customer.accessHistory` with millions of log rows.

    .venv/bin/python bench/access_log_scale.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--rows 10000000] [--customers 10000] [--keep] [--reuse DATABASE]

1. Size and write cost of the reference request (100 customers with sites, contracts and
   invoices: 2,300 objects), in layout 2 (write_access_log) and as layout 1 wrote it
   (one access_log_object row per object, per-row hash trigger), per request on disk
   (pg_column_size of the rows, and pg_relation_size of tables and indexes).
2. The sealer's cost per 100,000 leaves and per 100,000 logged objects in both layouts:
   reading the leaves (hashes computed in SQL for subject rows) and the Merkle tree.
3. --rows log rows generated in SQL (requests with 9 subject rows of 3 objects each,
   over three monthly partitions, --customers distinct data subjects), then
   access_history() (the whole history) and Customer.accessHistory's page and count
   functions for single customers as the runtime role, p50/p95 over 50 customers, and the
   plan of one call.

It creates a scratch database, migrates it and drops it at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from measure import (
    DEFAULT_URL,
    GENERATED_REQUESTS,
    bench_settings,
    database_url,
    p50,
    p95,
    page_record,
    timed,
)
from sqlalchemy import text

from server.audit.records import ObjectAccess
from server.audit.seal import merkle_root
from server.audit.service import (
    WRITE_STATEMENT,
    object_parameters,
    request_parameters,
)
from server.db.engine import create_engine
from server.db.migrate import upgrade
from server.db.session import session_factory

V1_WRITE = """
WITH request AS (
    INSERT INTO access_log_request (at, request_id, event, principal, organisation, roles,
        purpose, client_address, operation_name, operation_type, document_hash,
        policy_version, outcome, duration_ms, detail)
    VALUES ($1, $2, 'graphql', 'user:someone', 'ksat', '{customer_service}',
        'customer_relationship', '10.1.2.3', 'CustomerPage', 'query', $9, '0123456789abcdef',
        'ok', 42, NULL)
)
INSERT INTO access_log_object (at, request_id, type_name, object_id, subject_customer_id,
    subject_prospect_id, operation, fields_read, fields_masked, fields_denied)
SELECT $1, $2, o.type_name, o.object_id, o.customer_id, NULL, 'read',
       string_to_array(o.fields_read, ','), string_to_array(o.fields_masked, ','), '{}'
FROM unnest($3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::text[])
    AS o(type_name, object_id, customer_id, fields_read, fields_masked, operation)
"""

CUSTOMER_FIELDS = {"id", "customerNumber", "lastName", "firstName", "email", "sites"}
TYPES = (
    ("Site", 2, {"id", "meteringPointId", "address", "contracts"}),
    ("Contract", 2, {"id", "contractNumber", "status", "startDate", "invoices"}),
    ("Invoice", 18, {"id", "invoiceNumber", "status", "totalInclVat", "dueDate"}),
)


def reference_page(customers: int = 100) -> list[ObjectAccess]:
    """100 customers, each with 2 sites, 2 contracts and 18 invoices: 2,300 objects."""
    found: list[ObjectAccess] = []
    for _ in range(customers):
        customer_id = uuid.uuid4()
        customer = ObjectAccess("Customer", str(customer_id), customer_id, None, "read")
        customer.fields_read.update(CUSTOMER_FIELDS)
        customer.fields_masked.add("personalIdentityCode")
        found.append(customer)
        for type_name, count, fields in TYPES:
            for _ in range(count):
                item = ObjectAccess(type_name, str(uuid.uuid4()), customer_id, None, "read")
                item.fields_read.update(fields)
                found.append(item)
    return found


def v1_arguments(objects: list[ObjectAccess]) -> list[object]:
    return [
        datetime.now(UTC),
        uuid.uuid4(),
        [o.type_name for o in objects],
        [o.object_id for o in objects],
        [o.subject_customer_id for o in objects],
        [",".join(sorted(o.fields_read)) for o in objects],
        [",".join(sorted(o.fields_masked)) for o in objects],
        ["read" for _ in objects],
        "ab" * 32,
    ]


RELATION_BYTES = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = ANY ($1::regclass[])
"""


async def timed_writes(
    owner: asyncpg.Connection,
    tables: list[str],
    requests: int,
    write: Callable[[], Awaitable[None]],
) -> tuple[list[float], int]:
    """Milliseconds of each of `requests` writes after three to warm up, and how many bytes
    the partitions of `tables` grew by (the warm-up's writes included)."""
    before = await owner.fetchval(RELATION_BYTES, tables)
    for _ in range(3):
        await write()
    samples = await timed(requests, write)
    return samples, await owner.fetchval(RELATION_BYTES, tables) - before


async def sizes_and_writes(owner: asyncpg.Connection, sessions: object, requests: int) -> None:
    print(f"== 1. one reference request (2,300 objects), {requests} requests each way")
    make = session_factory(sessions)  # type: ignore[arg-type]
    objects = reference_page()
    assert len(objects) == 2300

    statement_ms: list[float] = []
    python_ms: list[float] = []

    async def new() -> None:
        async with make() as session, session.begin():
            started = time.perf_counter()
            parameters: dict[str, object] = request_parameters(page_record(executor="resolver"))
            parameters["executor"] = "resolver"
            parameters.update(object_parameters(objects))
            built = time.perf_counter()
            await session.execute(WRITE_STATEMENT, parameters)
            python_ms.append((built - started) * 1000)
            statement_ms.append((time.perf_counter() - built) * 1000)

    new_ms, grown = await timed_writes(
        owner, ["access_log_request", "access_log_subject"], requests, new
    )
    rows = await owner.fetchrow(
        """
        SELECT (SELECT count(*) FROM access_log_request) AS requests,
               (SELECT sum(pg_column_size(r.*)) FROM access_log_request r) AS request_bytes,
               (SELECT sum(pg_column_size(r.field_sets)) FROM access_log_request r) AS sets_bytes,
               (SELECT count(*) FROM access_log_subject) AS subjects,
               (SELECT sum(pg_column_size(s.*)) FROM access_log_subject s) AS subject_bytes
        """
    )
    count = rows["requests"]
    print(
        f"layout 2: per request {rows['request_bytes'] / count:,.0f} B request row "
        f"(field_sets {rows['sets_bytes'] / count:,.0f} B) + {rows['subjects'] / count:.0f} "
        f"subject rows {rows['subject_bytes'] / count:,.0f} B = "
        f"{(rows['request_bytes'] + rows['subject_bytes']) / count:,.0f} B of rows; "
        f"tables and indexes grew {grown / requests:,.0f} B per request"
    )
    print(
        f"layout 2: write + commit p50 {p50(new_ms):.2f} ms, p95 {p95(new_ms):.2f} ms; "
        f"of which parameters in Python p50 {p50(python_ms):.2f} ms, the statement p50 "
        f"{p50(statement_ms):.2f} ms, the rest commit"
    )

    base_requests = await owner.fetchval("SELECT count(*) FROM access_log_request")

    old_statement_ms: list[float] = []

    async def old() -> None:
        arguments = v1_arguments(objects)
        async with owner.transaction():
            started = time.perf_counter()
            await owner.execute(V1_WRITE, *arguments)
            old_statement_ms.append((time.perf_counter() - started) * 1000)

    old_ms, old_grown = await timed_writes(
        owner, ["access_log_request", "access_log_object"], requests, old
    )
    old_rows = await owner.fetchrow(
        """
        SELECT (SELECT count(*) FROM access_log_object) AS objects,
               (SELECT sum(pg_column_size(o.*)) FROM access_log_object o) AS object_bytes
        """
    )
    old_requests = await owner.fetchval("SELECT count(*) FROM access_log_request") - base_requests
    per_object = old_rows["object_bytes"] / old_rows["objects"]
    print(
        f"layout 1: per request {old_rows['object_bytes'] / old_requests:,.0f} B of object rows "
        f"({per_object:.0f} B each); tables and indexes grew "
        f"{old_grown / requests:,.0f} B per request"
    )
    print(
        f"layout 1: write + commit p50 {p50(old_ms):.2f} ms, p95 {p95(old_ms):.2f} ms; "
        f"of which the statement p50 {p50(old_statement_ms):.2f} ms"
    )

    async def baseline() -> None:
        async with make() as session, session.begin():
            await session.execute(text("SELECT 1"))

    base_ms = await timed(requests, baseline)
    print(f"baseline (SELECT 1 + commit, no WAL to flush) p50 {p50(base_ms):.2f} ms")


LEAVES = "SELECT seq, at, row_hash FROM access_log_leaves($1, $2, $3)"


async def sealer_cost(owner: asyncpg.Connection) -> None:
    print("== 2. the sealer: leaves read + Merkle tree")
    spans = await owner.fetchrow(
        """
        SELECT (SELECT min(seq) FROM access_log_object) AS object_first,
               (SELECT max(seq) FROM access_log_object) AS object_last,
               (SELECT min(seq) FROM access_log_subject) AS subject_first,
               (SELECT max(seq) FROM access_log_subject) AS subject_last,
               (SELECT count(*) FROM access_log_subject) AS subjects,
               (SELECT sum(cardinality(object_ids)) FROM access_log_subject) AS subject_objects,
               (SELECT count(*) FROM access_log_object) AS objects
        """
    )
    for label, first, last in (
        ("layout 1 (object rows, stored hash)", spans["object_first"], spans["object_last"]),
        ("layout 2 (subject rows, hash in SQL)", spans["subject_first"], spans["subject_last"]),
    ):
        cpu = time.process_time()
        wall = time.perf_counter()
        rows = await owner.fetch(LEAVES, first - 1, last, 1_000_000)
        read_ms = (time.perf_counter() - wall) * 1000
        tree = time.perf_counter()
        merkle_root([bytes(r["row_hash"]) for r in rows])
        tree_ms = (time.perf_counter() - tree) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
        leaves = len(rows)
        is_new = label.startswith("layout 2")
        objects = spans["subject_objects"] if is_new else spans["objects"]
        # Only this layout's leaves count: the other table's rows in the range are few.
        own = spans["subjects"] if is_new else spans["objects"]
        scale = 100_000 / own
        print(
            f"{label}: {leaves:,} leaves in {read_ms:,.0f} ms read + {tree_ms:,.0f} ms tree "
            f"(sealer process CPU {cpu_ms:,.0f} ms); per 100k leaves "
            f"{(read_ms + tree_ms) * scale:,.0f} ms, per 100k logged objects "
            f"{(read_ms + tree_ms) * 100_000 / objects:,.0f} ms "
            f"(sealer CPU {cpu_ms * 100_000 / objects:,.0f} ms)"
        )


GENERATE = (
    """
WITH requests AS (
    SELECT g, gen_random_uuid() AS request_id,
           $3::timestamptz + (g % 3) * interval '1 month' + (g % 86400) * interval '1 second'
               AS at
    FROM generate_series($1::bigint, $2::bigint) AS g
), req AS (
"""
    + GENERATED_REQUESTS
    + """           '[{"type": "Customer", "operation": "read", "read": ["id", "lastName"],
              "masked": ["personalIdentityCode"], "denied": []},
             {"type": "Site", "operation": "read", "read": ["id", "meteringPointId"],
              "masked": [], "denied": []},
             {"type": "Invoice", "operation": "read", "read": ["id", "totalInclVat"],
              "masked": [], "denied": []}]'::jsonb
    FROM requests
)
INSERT INTO access_log_subject (at, request_id, subject_customer_id, object_ids, object_sets)
SELECT r.at, r.request_id, c.customer_id,
       ARRAY[c.customer_id, gen_random_uuid(), gen_random_uuid()], '{1,2,3}'
FROM requests r
CROSS JOIN LATERAL (
    SELECT ('00000000-0000-4000-8000-' || lpad(((r.g * 9 + k) * 7919 % $4)::text, 12, '0'))::uuid
           AS customer_id
    FROM generate_series(1, 9) AS k
) c
"""
)

HISTORY = "SELECT * FROM access_history($1::uuid[])"
# Customer.accessHistory(first: 20): a page (21 rows: one more says another follows), the
# same with a purpose filter, and totalCount.
HISTORY_READS = {
    "access_history_page(first 20)": (
        "SELECT * FROM access_history_page($1::uuid[], NULL, NULL, NULL, NULL, 21)"
    ),
    "access_history_page(first 20, purpose)": (
        "SELECT * FROM access_history_page($1::uuid[], 'billing', NULL, NULL, NULL, 21)"
    ),
    "access_history_count()": "SELECT * FROM access_history_count($1::uuid[], NULL, NULL, NULL)",
}


def customer(index: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{index:012d}")


async def scale(
    owner: asyncpg.Connection, app_url: str, rows: int, customers: int, *, generate: bool = True
) -> None:
    per_request = 10  # one request row and nine subject rows
    requests = rows // per_request
    print(
        f"== 3. {requests * per_request:,} log rows ({requests:,} requests), {customers:,} subjects"
    )
    start = await owner.fetchval(
        "SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        " - interval '1 month'"
    )
    chunk = 50_000
    began = time.perf_counter()
    for first in range(1, requests + 1, chunk) if generate else ():
        last = min(requests, first + chunk - 1)
        await owner.execute(GENERATE, first, last, start, customers)
    print(f"generated in {time.perf_counter() - began:,.0f} s")
    await owner.execute("ANALYZE access_log_request")
    await owner.execute("ANALYZE access_log_subject")
    total = await owner.fetchval(
        "SELECT (SELECT count(*) FROM access_log_request) + (SELECT count(*) FROM"
        " access_log_subject) + (SELECT count(*) FROM access_log_object)"
    )
    size = await owner.fetchval(
        RELATION_BYTES, ["access_log_request", "access_log_subject", "access_log_object"]
    )
    print(f"log rows: {total:,}; tables and indexes {size / 2**20:,.0f} MiB")

    app = await asyncpg.connect(app_url)
    try:
        await app.execute("SET ROLE rekisteri_app")
        rng = random.Random(7)
        picks = [customer(rng.randrange(customers)) for _ in range(60)]
        for pick in picks[:10]:  # warm the plan cache and the indexes' upper levels
            await app.fetch(HISTORY, [pick])
        samples = []
        entries = []
        for pick in picks[10:]:
            started = time.perf_counter()
            found = await app.fetch(HISTORY, [pick])
            samples.append((time.perf_counter() - started) * 1000)
            entries.append(len(found))
        print(
            f"access_history (one customer, runtime role): p50 {p50(samples):.1f} ms, "
            f"p95 {p95(samples):.1f} ms, max {max(samples):.1f} ms; "
            f"{statistics.mean(entries):.0f} entries per customer on average"
        )
        for label, statement in HISTORY_READS.items():
            read_ms = []
            for pick in picks[10:]:
                started = time.perf_counter()
                await app.fetch(statement, [pick])
                read_ms.append((time.perf_counter() - started) * 1000)
            print(
                f"{label} (one customer, runtime role): p50 {p50(read_ms):.1f} ms, "
                f"p95 {p95(read_ms):.1f} ms, max {max(read_ms):.1f} ms"
            )
    finally:
        await app.close()
    await owner.execute("SET jit = off; SET max_parallel_workers_per_gather = 0")
    inner = await owner.fetch(
        """
        EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
        SELECT h.customer_id, r.seq, r.at, r.purpose
        FROM (SELECT s.subject_customer_id AS customer_id, s.request_id, s.at, s.object_sets
              FROM access_log_subject s WHERE s.subject_customer_id = ANY ($1::uuid[])) h
        JOIN access_log_request r ON r.request_id = h.request_id AND r.at = h.at
        """,
        [picks[-1]],
    )
    print("plan of the history's core (subject index, request by (request_id, at)):")
    show_plan(inner)
    page = await owner.fetch(PAGE_PLAN, picks[-1])
    print("plan of a page of 20 (requests sorted first, then 21 request rows fetched):")
    show_plan(page)


# The body of access_history_page() for one customer and a page of 20, as the owner.
PAGE_PLAN = """
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT g.entry_position, r.seq, r.at, r.purpose
FROM (
    SELECT h.* FROM access_history_requests($1, NULL, NULL) h
    ORDER BY h.entry_position DESC OFFSET 0
) g
CROSS JOIN LATERAL (
    SELECT q.seq, q.at, q.purpose, q.field_sets FROM access_log_request q
    WHERE q.request_id = g.request_id AND q.at = g.at OFFSET 0
) r
ORDER BY g.entry_position DESC LIMIT 21
"""


def show_plan(lines: list[asyncpg.Record]) -> None:
    keys = ("Index", "Nested", "Append", "Limit", "Sort", "Aggregate", "Execution", "Subplans")
    for line in lines:
        value = line[0]
        if any(k in value for k in keys):
            print("   ", value)


async def reuse(url: str, name: str, rows: int, customers: int) -> None:
    """Section 3 again on a database kept by an earlier run (after changing functions)."""
    db_url = database_url(url, name)
    owner = await asyncpg.connect(db_url)
    try:
        await scale(owner, db_url, rows, customers, generate=False)
    finally:
        await owner.close()


async def main(url: str, rows: int, customers: int, requests: int, keep: bool) -> None:
    name = f"rk_audit_scale_{secrets.token_hex(3)}"
    db_url = database_url(url, name)
    settings = bench_settings(db_url, statement_timeout_ms=3_600_000)
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    owner_engine = create_engine(db_url, settings, as_app_role=False)
    app_engine = create_engine(db_url, settings)
    owner = None
    try:
        async with owner_engine.begin() as conn:
            await upgrade(conn)
        owner = await asyncpg.connect(db_url)
        server = await owner.fetchval("SHOW server_version")
        fsync = await owner.fetchval("SHOW fsync")
        commit = await owner.fetchval("SHOW synchronous_commit")
        print(f"PostgreSQL {server}, fsync={fsync}, synchronous_commit={commit}")
        async with app_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        await sizes_and_writes(owner, app_engine, requests)
        await sealer_cost(owner)
        if rows:
            await scale(owner, db_url, rows, customers)
    finally:
        if owner is not None:
            await owner.close()
        await owner_engine.dispose()
        await app_engine.dispose()
        if keep:
            print(f"kept database {name}")
        else:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", default=DEFAULT_URL, help="maintenance database of the server")
    parser.add_argument("--rows", type=int, default=10_000_000, help="log rows to generate")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=44, help="reference requests per layout")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", metavar="DATABASE", help="only section 3, on a kept database")
    options = parser.parse_args()
    if options.reuse:
        asyncio.run(reuse(options.url, options.reuse, options.rows, options.customers))
    else:
        asyncio.run(
            main(options.url, options.rows, options.customers, options.requests, options.keep)
        )

"""The floor of the side-by-side benchmark: PostgreSQL builds the whole answer, Python passes it.

A minimal Starlette + asyncpg application. It understands exactly the two operations of
`bench/side_by_side.py` (chosen by `operationName`, no GraphQL parsing), runs one hand-written
`json_build_object`/`json_agg` statement per request that returns the complete response text,
and sends those bytes unchanged. No authentication, authorisation or access log: it shows
what one statement per read costs on this machine and database, nothing more.

    FLOOR_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/rk_bench \
        .venv/bin/python -m uvicorn --app-dir bench --factory floor_app:create_app --workers 2

With FLOOR_ACCESS_LOG=1 it answers Q1 only, and its statement also writes what rekisteri's
access log writes for that read: one request row and one row per data subject with the ids of
the objects returned, into copies of rekisteri's two log tables (same columns, defaults,
constraints and indexes, a sequence of their own; not partitioned, no triggers, never
sealed). Each read then commits a durable write, as rekisteri's do: the price of the log
without any of rekisteri's own code. The field sets it writes are the ones rekisteri records
for Q1, written out here on purpose: the floor runs none of rekisteri's code.

The columns, nesting, orders and page sizes are those of the rekisteri page (sites by
metering point, contracts newest first, invoices newest first; nested pages of 10, 10 and 20
as connections, IDs as global IDs).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# The nested lists are connections of at most 10 sites, 10 contracts and 20 invoices per
# parent (the pages bench/side_by_side.py asks every peer for); IDs are global IDs.


def _gid(type_name: str, column: str) -> str:
    """rekisteri's global ID: base64 of "Type:uuid" (PostgreSQL's base64 breaks lines)."""
    return f"replace(encode(convert_to('{type_name}:' || {column}::text, 'UTF8'), 'base64'), chr(10), '')"


def _connection(objects: str, rows: str) -> str:
    """{"edges": [{"node": ...}]} of the rows of a sub-select, in its order."""
    return f"""json_build_object('edges', coalesce((SELECT json_agg(json_build_object(
        'node', {objects})) FROM ({rows}) x), '[]'::json))"""


_SITES = _connection(
    f"""json_build_object(
    'id', {_gid("Site", "x.id")}, 'meteringPointId', x.metering_point_id,
    'streetAddress', x.street_address, 'housingType', x.housing_type,
    'heatingType', x.heating_type, 'mainFuse', x.main_fuse,
    'annualConsumptionEstimateKwh', x.annual_consumption_estimate_kwh)""",
    "SELECT * FROM site s WHERE s.customer_id = c.id ORDER BY s.metering_point_id LIMIT 10",
)

_CUSTOMER_FIELDS = f"""'id', {_gid("Customer", "c.id")}, 'customerNumber', c.customer_number,
    'firstName', c.first_name, 'lastName', c.last_name,
    'personalIdentityCode', c.personal_identity_code, 'email', c.email, 'phone', c.phone,
    'streetAddress', c.street_address, 'postalCode', c.postal_code"""

_INVOICES = _connection(
    f"""json_build_object(
    'id', {_gid("Invoice", "x.id")}, 'invoiceNumber', x.invoice_number,
    'referenceNumber', x.reference_number, 'issueDate', x.issue_date, 'dueDate', x.due_date,
    'totalInclVat', x.total_incl_vat, 'status', x.status)""",
    "SELECT * FROM invoice i WHERE i.contract_id = k.id"
    " ORDER BY i.issue_date DESC, i.invoice_number DESC LIMIT 20",
)

_CONTRACTS = _connection(
    f"""json_build_object(
    'id', {_gid("Contract", "x.id")}, 'contractNumber', x.contract_number, 'status', x.status,
    'startDate', x.start_date, 'endDate', x.end_date,
    'basicFeeEurPerMonth', x.basic_fee_eur_per_month,
    'spotMarginCPerKwh', x.spot_margin_c_per_kwh, 'invoices', x.invoices)""",
    f"SELECT k.*, {_INVOICES} AS invoices FROM contract k WHERE k.customer_id = c.id"
    " ORDER BY k.start_date DESC, k.id DESC LIMIT 10",
)

# Q3: customers(first: 100) with sites, contracts and their invoices, as a Relay connection.
Q3_SQL = f"""
WITH page AS (SELECT * FROM customer ORDER BY customer_number LIMIT 101),
     shown AS (SELECT * FROM page ORDER BY customer_number LIMIT 100)
SELECT json_build_object('data', json_build_object('customers', json_build_object(
    'edges', coalesce((SELECT json_agg(json_build_object('node', json_build_object(
            {_CUSTOMER_FIELDS}, 'sites', {_SITES}, 'contracts', {_CONTRACTS}))
        ORDER BY c.customer_number) FROM shown c), '[]'::json),
    'pageInfo', json_build_object(
        'hasNextPage', (SELECT count(*) FROM page) > 100,
        'endCursor', (SELECT encode(convert_to(id::text, 'UTF8'), 'base64')
                      FROM shown ORDER BY customer_number DESC LIMIT 1)))))::text
"""

# Q1: one customer by id with its sites.
Q1_SQL = f"""
SELECT json_build_object('data', json_build_object('customer', (
    SELECT json_build_object({_CUSTOMER_FIELDS}, 'sites', {_SITES})
    FROM customer c WHERE c.id = $1::uuid)))::text
"""


# The access log's two rows for Q1, written by the same statement (FLOOR_ACCESS_LOG=1): the
# request row with the field sets rekisteri records for this read, and the subject row with
# the customer and site ids returned.
LOG_TABLES = """
CREATE TABLE IF NOT EXISTS floor_log_request
    (LIKE access_log_request INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE IF NOT EXISTS floor_log_subject
    (LIKE access_log_subject INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE SEQUENCE IF NOT EXISTS floor_log_seq;
ALTER TABLE floor_log_request ALTER COLUMN seq SET DEFAULT
    nextval(CASE WHEN pg_current_xact_id() IS NOT NULL THEN 'floor_log_seq'::regclass END);
ALTER TABLE floor_log_subject ALTER COLUMN seq SET DEFAULT
    nextval(CASE WHEN pg_current_xact_id() IS NOT NULL THEN 'floor_log_seq'::regclass END);
"""

Q1_FIELD_SETS = orjson.dumps(
    [
        {
            "read": [
                "annualConsumptionEstimateKwh", "heatingType", "housingType", "id", "mainFuse",
                "meteringPointId", "streetAddress",
            ],
            "type": "Site", "denied": [], "masked": [], "operation": "read",
        },
        {
            "read": [
                "customerNumber", "email", "firstName", "id", "lastName", "phone", "postalCode",
                "sites", "streetAddress",
            ],
            "type": "Customer", "denied": [], "masked": ["personalIdentityCode"],
            "operation": "read",
        },
    ]
).decode()  # fmt: skip

Q1_LOGGED_SQL = f"""
WITH request AS (
    INSERT INTO floor_log_request (at, request_id, event, principal, organisation, roles,
        purpose, client_address, operation_name, operation_type, document_hash,
        policy_version, outcome, duration_ms, executor, field_sets)
    VALUES (now(), $2::uuid, 'graphql', 'user:' || $3::text, 'ksat', '{{customer_service}}',
        'billing', '127.0.0.1', 'Q1', 'query', $4::text, 'floor', 'ok', 0, 'floor',
        $5::jsonb)),
subject AS (
    INSERT INTO floor_log_subject (at, request_id, subject_customer_id, object_ids, object_sets)
    SELECT now(), $2::uuid, c.id, c.id || s.ids, 1::int2 || s.sets
    FROM customer c, LATERAL (
        SELECT coalesce(array_agg(x.id), '{{}}') AS ids,
               coalesce(array_agg(2::int2), '{{}}') AS sets
        FROM (SELECT id FROM site WHERE customer_id = c.id ORDER BY metering_point_id LIMIT 10) x
    ) s
    WHERE c.id = $1::uuid)
{Q1_SQL}"""


async def readyz(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    await pool.fetchval("SELECT 1")
    return Response(b'{"status":"ready"}', media_type="application/json")


async def graphql(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    body: dict[str, Any] = orjson.loads(await request.body())
    operation = body.get("operationName")
    if request.app.state.logged:
        return await _logged_q1(pool, body) if operation == "Q1" else _unknown()
    if operation == "Q3":
        text: str = await pool.fetchval(Q3_SQL)
    elif operation == "Q1":
        text = await pool.fetchval(Q1_SQL, str((body.get("variables") or {})["id"]))
    else:
        return _unknown()
    return Response(text.encode(), media_type="application/json")


async def _logged_q1(pool: asyncpg.Pool, body: dict[str, Any]) -> Response:
    """Q1 and its two log rows in one statement, a transaction of its own."""
    customer = str((body.get("variables") or {})["id"])
    values = (uuid.uuid4(), str(uuid.uuid4()), secrets.token_hex(32), Q1_FIELD_SETS)
    text: str = await pool.fetchval(Q1_LOGGED_SQL, customer, *values)
    return Response(text.encode(), media_type="application/json")


def _unknown() -> Response:
    return Response(b'{"errors":[{"message":"unknown operation"}]}', 400)


async def _create_log_tables(pool: asyncpg.Pool) -> None:
    """Two workers start together: one creates the tables, the other waits for it."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(7341)")
        await connection.execute(LOG_TABLES)


def create_app() -> Starlette:
    url = os.environ["FLOOR_DATABASE_URL"]
    logged = os.environ.get("FLOOR_ACCESS_LOG") == "1"

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(url, min_size=2, max_size=10)
        app.state.logged = logged
        if logged:
            await _create_log_tables(app.state.pool)
        try:
            yield
        finally:
            await app.state.pool.close()

    routes = [
        Route("/graphql", graphql, methods=["POST"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)

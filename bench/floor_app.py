"""The floor of the side-by-side benchmark: PostgreSQL builds the whole answer, Python passes it.

A minimal Starlette + asyncpg application. It understands exactly the two operations of
`bench/side_by_side.py` (chosen by `operationName`, no GraphQL parsing), runs one hand-written
`json_build_object`/`json_agg` statement per request that returns the complete response text,
and sends those bytes unchanged. No authentication, authorisation or access log: it shows
what one statement per read costs on this machine and database, nothing more.

    FLOOR_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/rk_bench \
        .venv/bin/python -m uvicorn --app-dir bench --factory floor_app:create_app --workers 2

The columns, nesting and orders are those of the rekisteri page (sites by metering point,
contracts newest first, invoices newest first).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_SITE = """json_build_object(
    'id', s.id, 'meteringPointId', s.metering_point_id, 'streetAddress', s.street_address,
    'housingType', s.housing_type, 'heatingType', s.heating_type, 'mainFuse', s.main_fuse,
    'annualConsumptionEstimateKwh', s.annual_consumption_estimate_kwh)"""

_SITES = f"""coalesce((SELECT json_agg({_SITE} ORDER BY s.metering_point_id)
    FROM site s WHERE s.customer_id = c.id), '[]'::json)"""

_CUSTOMER_FIELDS = """'id', c.id, 'customerNumber', c.customer_number, 'firstName', c.first_name,
    'lastName', c.last_name, 'personalIdentityCode', c.personal_identity_code,
    'email', c.email, 'phone', c.phone, 'streetAddress', c.street_address,
    'postalCode', c.postal_code"""

_INVOICES = """coalesce((SELECT json_agg(json_build_object(
        'id', i.id, 'invoiceNumber', i.invoice_number, 'referenceNumber', i.reference_number,
        'issueDate', i.issue_date, 'dueDate', i.due_date, 'totalInclVat', i.total_incl_vat,
        'status', i.status) ORDER BY i.issue_date DESC, i.invoice_number DESC)
    FROM invoice i WHERE i.contract_id = k.id), '[]'::json)"""

_CONTRACTS = f"""coalesce((SELECT json_agg(json_build_object(
        'id', k.id, 'contractNumber', k.contract_number, 'status', k.status,
        'startDate', k.start_date, 'endDate', k.end_date,
        'basicFeeEurPerMonth', k.basic_fee_eur_per_month,
        'spotMarginCPerKwh', k.spot_margin_c_per_kwh,
        'invoices', {_INVOICES}) ORDER BY k.start_date DESC, k.id)
    FROM contract k WHERE k.customer_id = c.id), '[]'::json)"""

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


async def readyz(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    await pool.fetchval("SELECT 1")
    return Response(b'{"status":"ready"}', media_type="application/json")


async def graphql(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    body: dict[str, Any] = orjson.loads(await request.body())
    operation = body.get("operationName")
    if operation == "Q3":
        text: str = await pool.fetchval(Q3_SQL)
    elif operation == "Q1":
        text = await pool.fetchval(Q1_SQL, str((body.get("variables") or {})["id"]))
    else:
        return Response(b'{"errors":[{"message":"unknown operation"}]}', 400)
    return Response(text.encode(), media_type="application/json")


def create_app() -> Starlette:
    url = os.environ["FLOOR_DATABASE_URL"]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(url, min_size=2, max_size=10)
        try:
            yield
        finally:
            await app.state.pool.close()

    routes = [
        Route("/graphql", graphql, methods=["POST"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)

"""Factories for test data: rows written straight to the database as its owner, users made
as the command line makes them, and access-log records as the operation runner makes them."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from server import validators
from server.audit.records import EventKind, ObjectAccess, Outcome, RequestRecord
from server.authz.principal import Principal, PrincipalKind
from server.identity.login import LoginRefusal, Sleep, TokenGrant, authenticate_password
from server.identity.service import create_user
from server.operations.runner import event_record
from server.settings import Settings
from server.sites.consumption import day_rows
from server.validators import make_reference
from tests.dbserver import Database

_counter = itertools.count(1)


def make_hetu(birth: date, individual: int) -> str:
    return validators.make_hetu(birth, individual)


def make_business_id(body: int) -> str:
    """The business ID of the seven-digit body, or of the next one that can have an ID."""
    try:
        return validators.make_business_id(f"{body:07d}")
    except validators.IdentifierError:
        return make_business_id(body + 1)


def make_gsrn(serial: int) -> str:
    return validators.make_gsrn(f"643007127{serial:08d}")


async def insert(conn: asyncpg.Connection, table: str, values: dict[str, Any]) -> dict[str, Any]:
    columns = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING *",
        *values.values(),
    )
    assert row is not None
    return dict(row)


async def consumption(
    conn: asyncpg.Connection,
    *,
    site_id: Any,
    resolution: str,
    values: Iterable[tuple[datetime, Decimal, str]],
) -> int:
    """Store metered values (start of the step, kWh, quality) of one site as the register
    keeps them, one row per UTC day; returns how many day rows were written."""
    rows = day_rows(resolution=resolution, points=values)
    for day, energy, quality in rows:
        await insert(
            conn,
            "consumption",
            {
                "site_id": site_id,
                "resolution": resolution,
                "day": day,
                "energy_kwh": energy,
                "quality": quality,
            },
        )
    return len(rows)


async def organisation(
    conn: asyncpg.Connection, *, code: str, kind: str = "subcontractor", name: str | None = None
) -> dict[str, Any]:
    existing = await conn.fetchrow("SELECT * FROM organisation WHERE code = $1", code)
    if existing:
        return dict(existing)
    return await insert(
        conn,
        "organisation",
        {
            "id": uuid.uuid4(),
            "code": code,
            "name": name or code.title(),
            "kind": kind,
            "description": "",
        },
    )


def company(name: str, business_id: str) -> dict[str, Any]:
    """The columns that make a customer an organisation: its name and business ID, and no
    person's names or identity code (for `customer` and `customer_graph`)."""
    return {
        "kind": "organisation",
        "first_name": None,
        "last_name": None,
        "personal_identity_code": None,
        "organisation_name": name,
        "business_id": business_id,
    }


async def customer(conn: asyncpg.Connection, **overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "kind": "person",
        "first_name": "Aino",
        "last_name": f"Testinen{n}",
        "personal_identity_code": make_hetu(date(1970, 1, 1) + timedelta(days=n), 2 + n % 800),
        "street_address": f"Koulukatu {n}",
        "postal_code": "34800",
        "post_office": "Virrat",
        "email": f"aino.testinen{n}@example.fi",
        "phone": f"+35840{n:07d}",
        "language": "fi",
    }
    values.update(overrides)
    return await insert(conn, "customer", values)


async def site(
    conn: asyncpg.Connection, *, customer_id: uuid.UUID, **overrides: Any
) -> dict[str, Any]:
    n = next(_counter)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "customer_id": customer_id,
        "metering_point_id": make_gsrn(n),
        "street_address": f"Mäkitie {n}",
        "postal_code": "34800",
        "post_office": "Virrat",
        "housing_type": "detached_house",
        "ownership": "owned",
        "heating_type": "direct_electric",
        "heating_depends_on_electricity": True,
        "annual_consumption_estimate_kwh": 18000,
        "main_fuse": "3x25A",
        "connection_id": f"LI-{n:06d}",
        "grid_operator": "Koillis-Satakunnan Sähköverkko",
        "connection_power_kw": Decimal("17.00"),
        "connected_on": date(2001, 5, 1),
    }
    values.update(overrides)
    return await insert(conn, "site", values)


async def product(conn: asyncpg.Connection, **overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "code": f"SPOT-{n}",
        "name": "Pörssisähkö",
        "kind": "spot",
        "fixed_term_months": None,
        "description": "",
    }
    values.update(overrides)
    return await insert(conn, "product", values)


async def contract(
    conn: asyncpg.Connection,
    *,
    customer_id: uuid.UUID,
    site_id: uuid.UUID,
    product_id: uuid.UUID,
    **overrides: Any,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "customer_id": customer_id,
        "site_id": site_id,
        "product_id": product_id,
        "spot_margin_c_per_kwh": Decimal("0.4900"),
        "basic_fee_eur_per_month": Decimal("3.90"),
        "start_date": date(2024, 1, 1),
        "status": "active",
        "sales_channel": "web",
    }
    values.update(overrides)
    return await insert(conn, "contract", values)


async def invoice(
    conn: asyncpg.Connection,
    *,
    customer_id: uuid.UUID,
    contract_id: uuid.UUID | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    n = next(_counter)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "customer_id": customer_id,
        "contract_id": contract_id,
        "reference_number": make_reference(1000 + n),
        "billing_method": "e_invoice",
        "issue_date": date(2026, 10, 1),
        "due_date": date(2026, 10, 15),
        "total_excl_vat": Decimal("80.00"),
        "vat_amount": Decimal("20.40"),
        "total_incl_vat": Decimal("100.40"),
        "status": "paid",
    }
    values.update(overrides)
    row = await insert(conn, "invoice", values)
    await insert(
        conn,
        "invoice_line",
        {
            "invoice_id": row["id"],
            "line_number": 1,
            "description": "Energia",
            "quantity": Decimal("1000.000"),
            "unit": "kWh",
            "unit_price": Decimal("0.0800"),
            "vat_rate": Decimal("25.50"),
            "amount_excl_vat": Decimal("80.00"),
            "vat_amount": Decimal("20.40"),
        },
    )
    return row


async def past_due_invoice(
    conn: asyncpg.Connection, *, customer_id: uuid.UUID, status: str, **overrides: Any
) -> dict[str, Any]:
    """An invoice issued on 1 January 2026 and due on the 15th: past its due date."""
    dates = {"issue_date": date(2026, 1, 1), "due_date": date(2026, 1, 15)}
    return await invoice(conn, customer_id=customer_id, status=status, **(dates | overrides))


async def payment(
    conn: asyncpg.Connection, *, invoice_id: uuid.UUID, amount: Decimal
) -> dict[str, Any]:
    return await insert(
        conn,
        "payment",
        {
            "id": uuid.uuid4(),
            "invoice_id": invoice_id,
            "paid_on": date(2026, 10, 14),
            "amount": amount,
            "source": "bank",
        },
    )


async def collection_case(
    conn: asyncpg.Connection,
    *,
    customer_id: uuid.UUID,
    agency_id: uuid.UUID,
    invoice_ids: list[uuid.UUID],
    **overrides: Any,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "customer_id": customer_id,
        "agency_id": agency_id,
        "stage": "collection_agency",
        "opened_on": date(2026, 9, 1),
        "amount_due": Decimal("100.40"),
    }
    values.update(overrides)
    row = await insert(conn, "collection_case", values)
    for invoice_id in invoice_ids:
        await insert(
            conn,
            "collection_case_invoice",
            {"collection_case_id": row["id"], "invoice_id": invoice_id},
        )
    return row


async def assignment(
    conn: asyncpg.Connection,
    *,
    organisation_id: uuid.UUID,
    site_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    purpose: str = "delivery",
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return await insert(
        conn,
        "assignment",
        {
            "id": uuid.uuid4(),
            "organisation_id": organisation_id,
            "site_id": site_id,
            "customer_id": customer_id,
            "purpose": purpose,
            "valid_from": valid_from or today - timedelta(days=30),
            "valid_to": valid_to,
        },
    )


async def prospect(conn: asyncpg.Connection, **overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    today = datetime.now(UTC).date()
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "first_name": "Pekka",
        "last_name": f"Prospekti{n}",
        "email": f"pekka{n}@example.com",
        "phone": None,
        "postal_code": "33100",
        "source": "prize_draw",
        "campaign": "Kesäarvonta 2026",
        "marketing_consent_at": datetime.now(UTC),
        "consent_text": "Saa lähettää markkinointia.",
        "consent_expires_on": today + timedelta(days=365),
    }
    values.update(overrides)
    return await insert(conn, "prospect", values)


async def offer(
    conn: asyncpg.Connection, *, product_id: uuid.UUID, **overrides: Any
) -> dict[str, Any]:
    """An open offer of a product (give `customer_id` or `prospect_id`)."""
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "product_id": product_id,
        "spot_margin_c_per_kwh": Decimal("0.3900"),
        "basic_fee_eur_per_month": Decimal("2.90"),
        "valid_until": datetime.now(UTC).date() + timedelta(days=14),
        "status": "open",
    }
    values.update(overrides)
    return await insert(conn, "offer", values)


@dataclass
class CustomerGraph:
    """A customer with sites, contracts and invoices, as a page test needs."""

    customer: dict[str, Any]
    sites: list[dict[str, Any]]
    contracts: list[dict[str, Any]]
    invoices: list[dict[str, Any]]


async def customer_graph(
    conn: asyncpg.Connection,
    *,
    product_id: uuid.UUID,
    sites: int = 2,
    invoices_per_contract: int = 2,
    **customer_overrides: Any,
) -> CustomerGraph:
    holder = await customer(conn, **customer_overrides)
    graph = CustomerGraph(holder, [], [], [])
    for _ in range(sites):
        place = await site(conn, customer_id=holder["id"])
        deal = await contract(
            conn, customer_id=holder["id"], site_id=place["id"], product_id=product_id
        )
        graph.sites.append(place)
        graph.contracts.append(deal)
        for _ in range(invoices_per_contract):
            bill = await invoice(conn, customer_id=holder["id"], contract_id=deal["id"])
            await payment(conn, invoice_id=bill["id"], amount=bill["total_incl_vat"])
            graph.invoices.append(bill)
    return graph


# --------------------------------------------------------------------------
# GraphQL inputs
# --------------------------------------------------------------------------


def customer_input(customer: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The input of a mutation of `customer` (a row): the customer's id and `fields`."""
    return {"customerId": str(customer["id"]), **fields}


def on_customer(customer: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The variables of a mutation of `customer` (a row): its input, `customer_input`."""
    return {"input": customer_input(customer, **fields)}


def person_input(**overrides: Any) -> dict[str, Any]:
    """A CreateCustomerInput of a new person (Maija Mehiläinen of Virrat), with `overrides`."""
    values: dict[str, Any] = {
        "kind": "PERSON",
        "firstName": "Maija",
        "lastName": "Mehiläinen",
        "streetAddress": "Kauppakatu 12 B 4",
        "postalCode": "34800",
        "postOffice": "Virrat",
    }
    return values | overrides


# --------------------------------------------------------------------------
# Users (the identity tests)
# --------------------------------------------------------------------------

# Role names the identity tests invent; real ones come from the policy files.
ROLES = frozenset({"clerk", "collector", "auditor"})
COMPANY = "ksat"
SUBCONTRACTOR = "perinta-a"


def user_principal(
    name: str,
    *roles: str,
    organisation: str = COMPANY,
    organisation_id: uuid.UUID | None = None,
    id: uuid.UUID | None = None,
) -> Principal:
    """A signed-in user holding `roles` in `organisation`, as a login makes one (new IDs
    unless given)."""
    return Principal(
        kind=PrincipalKind.USER,
        id=id or uuid.uuid4(),
        name=name,
        organisation_id=organisation_id or uuid.uuid4(),
        organisation_code=organisation,
        roles=roles,
    )


def new_password() -> str:
    return "pw-" + secrets.token_urlsafe(15)


def new_username(stem: str = "user") -> str:
    return f"{stem}.{secrets.token_hex(4)}"


def new_address() -> str:
    """A fresh client address in its own /64 of the documentation range (only stored)."""
    return f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::1"


async def login(
    db: Database,
    username: str,
    password: str,
    *,
    client: str | None = None,
    settings: Settings | None = None,
    sleep: Sleep = asyncio.sleep,
) -> TokenGrant | LoginRefusal:
    """A password login as the token route makes it, as the runtime role, from `client` (a
    fresh address unless given), waiting out any delay through `sleep`."""
    async with db.app() as session:
        return await authenticate_password(
            session=session,
            username=username,
            password=password,
            client_address=client or new_address(),
            settings=settings or db.settings,
            sleep=sleep,
        )


async def make_user(
    db: Database,
    *,
    roles: tuple[str, ...] = ("clerk",),
    organisation: str = COMPANY,
    stem: str = "user",
) -> tuple[str, str]:
    """A new active user (created as the owner, like the command line); (username, password)."""
    username, password = new_username(stem), new_password()
    async with db.owner_session() as session:
        await create_user(
            session=session,
            username=username,
            password=password,
            organisation_code=organisation,
            roles=roles,
            known_roles=set(ROLES),
        )
    return username, password


# --------------------------------------------------------------------------
# Access-log records
# --------------------------------------------------------------------------


def request_record(
    *,
    at: datetime | None = None,
    event: EventKind = EventKind.GRAPHQL,
    outcome: Outcome = Outcome.OK,
    principal: str | None = "user:6f1c1a8e-0000-4000-8000-000000000001",
    purpose: str | None = "customer_relationship",
    operation_name: str | None = "CustomerPage",
    detail: str | None = None,
    request_id: uuid.UUID | None = None,
) -> RequestRecord:
    """The record of a customer service user's query, made by the runner's factory; with
    the document hash and duration a query's record has."""
    record = event_record(
        event,
        outcome=outcome,
        principal=principal,
        organisation="ksat",
        roles=("customer_service",),
        purpose=purpose,
        client_address="10.1.2.3",
        operation_name=operation_name,
        operation_type="query",
        policy_version="0123456789abcdef",
        detail=detail,
        request_id=request_id,
    )
    return replace(record, at=at or record.at, document_hash="ab" * 32, duration_ms=12.5)


def customer_objects(count: int, *, invoices_per_customer: int = 0) -> list[ObjectAccess]:
    """Objects as a customer page with nested invoices produces them."""
    objects: list[ObjectAccess] = []
    for _ in range(count):
        customer_id = uuid.uuid4()
        customer = ObjectAccess("Customer", str(customer_id), customer_id, None, "read")
        customer.fields_read.update({"id", "customerNumber", "lastName", "email"})
        customer.fields_masked.add("personalIdentityCode")
        customer.fields_denied.add("collectionCases")
        objects.append(customer)
        for _ in range(invoices_per_customer):
            invoice = ObjectAccess("Invoice", str(uuid.uuid4()), customer_id, None, "read")
            invoice.fields_read.update({"id", "invoiceNumber", "totalInclVat", "status"})
            objects.append(invoice)
    return objects

"""A small register with every kind of row, shared by the HTTP tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from tests import factories

# The users of the scenario's organisations, as `gql(as_=...)` takes them.
AGENCY_A = ("collection_agency", "perinta-a")  # the agency of `in_collection_a`'s case


@dataclass
class Scenario:
    product: dict[str, Any]
    plain: factories.CustomerGraph  # an ordinary customer
    in_collection_a: factories.CustomerGraph  # collection case at agency A
    in_collection_b: factories.CustomerGraph  # collection case at agency B
    objector: factories.CustomerGraph  # objected to direct marketing
    assigned_site_a: dict[str, Any]  # a site assigned to field service A
    expired_site_a: dict[str, Any]  # assignment to A has ended
    site_b: dict[str, Any]  # assigned to field service B
    prospect: dict[str, Any]
    organisations: dict[str, dict[str, Any]]


async def build_scenario(conn: asyncpg.Connection) -> Scenario:
    orgs = {
        "ksat": await factories.organisation(conn, code="ksat", kind="company"),
        "perinta-a": await factories.organisation(conn, code="perinta-a"),
        "perinta-b": await factories.organisation(conn, code="perinta-b"),
        "kenttapalvelu-a": await factories.organisation(conn, code="kenttapalvelu-a"),
        "kenttapalvelu-b": await factories.organisation(conn, code="kenttapalvelu-b"),
    }
    product = await factories.product(conn)
    await factories.insert(
        conn,
        "price",
        {
            "id": uuid.uuid4(),
            "product_id": product["id"],
            "spot_margin_c_per_kwh": Decimal("0.4900"),
            "basic_fee_eur_per_month": Decimal("3.90"),
            "vat_rate": Decimal("25.50"),
            "valid_from": date(2024, 9, 1),
        },
    )
    plain = await factories.customer_graph(conn, product_id=product["id"])
    in_a = await factories.customer_graph(conn, product_id=product["id"], sites=1)
    in_b = await factories.customer_graph(conn, product_id=product["id"], sites=1)
    objector = await factories.customer_graph(
        conn,
        product_id=product["id"],
        sites=1,
        direct_marketing_objection_at=datetime.now(UTC) - timedelta(days=3),
        direct_marketing_objection_source="kirje",
    )
    for graph, agency in ((in_a, "perinta-a"), (in_b, "perinta-b")):
        overdue = await factories.invoice(
            conn,
            customer_id=graph.customer["id"],
            contract_id=graph.contracts[0]["id"],
            status="in_collection",
        )
        graph.invoices.append(overdue)
        await factories.collection_case(
            conn,
            customer_id=graph.customer["id"],
            agency_id=orgs[agency]["id"],
            invoice_ids=[overdue["id"]],
        )
    await factories.insert(
        conn,
        "security_deposit",
        {
            "id": uuid.uuid4(),
            "customer_id": plain.customer["id"],
            "amount": Decimal("200.00"),
            "received_on": date(2025, 1, 10),
            "status": "held",
            "reason": "luottotiedot",
        },
    )
    today = datetime.now(UTC).date()
    await factories.assignment(
        conn, organisation_id=orgs["kenttapalvelu-a"]["id"], site_id=plain.sites[0]["id"]
    )
    await factories.assignment(
        conn,
        organisation_id=orgs["kenttapalvelu-a"]["id"],
        site_id=plain.sites[1]["id"],
        valid_from=today - timedelta(days=60),
        valid_to=today - timedelta(days=1),
    )
    await factories.assignment(
        conn, organisation_id=orgs["kenttapalvelu-b"]["id"], site_id=objector.sites[0]["id"]
    )
    await factories.consumption(
        conn,
        site_id=plain.sites[0]["id"],
        resolution="PT1H",
        values=[
            (
                datetime(2025, 12, 31, 22, tzinfo=UTC) + timedelta(hours=hour),
                Decimal("1.500"),
                "measured",
            )
            for hour in range(48)
        ],
    )
    prospect = await factories.prospect(conn)
    return Scenario(
        product=product,
        plain=plain,
        in_collection_a=in_a,
        in_collection_b=in_b,
        objector=objector,
        assigned_site_a=plain.sites[0],
        expired_site_a=plain.sites[1],
        site_b=objector.sites[0],
        prospect=prospect,
        organisations=orgs,
    )

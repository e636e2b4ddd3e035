"""The access log over HTTP: every object and field returned is on record.

The shared test database keeps the log of earlier tests: each test looks at its own
requests only. Fail-closed tests, which revoke rights, are in test_audit_failclosed.py.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from typing import Any

import asyncpg
import httpx

from server.audit.seal import seal_pending
from server.audit.verify import verify
from server.cli_support import owner_session
from server.settings import Settings
from tests import factories
from tests.conftest import Users, gql, raw_id

PAGE = """
query AuditPage($first: Int) {
  customers(first: $first) {
    edges { node {
      __typename id customerNumber lastName personalIdentityCode
      collectionCases { edges { node { __typename id } } }
      sites { edges { node { __typename id meteringPointId
        contracts { edges { node { __typename id status } } } } } }
      contracts { edges { node { __typename id contractNumber } } }
      invoices { edges { node { __typename id referenceNumber
        payments { edges { node { __typename id amount } } } } } }
    } }
  }
}
"""


def returned_objects(
    value: Any, found: dict[tuple[str, str], set[str]] | None = None
) -> dict[tuple[str, str], set[str]]:
    """(type, id) -> fields present in the response, for every object that has a type name."""
    found = defaultdict(set) if found is None else found
    if isinstance(value, dict):
        if "__typename" in value and "id" in value:
            found[(value["__typename"], raw_id(value["id"]))].update(set(value) - {"__typename"})
        for child in value.values():
            returned_objects(child, found)
    elif isinstance(value, list):
        for child in value:
            returned_objects(child, found)
    return found


async def logged_objects(owner: asyncpg.Connection, request_id: str) -> list[asyncpg.Record]:
    return await owner.fetch(
        "SELECT type_name, object_id, subject_customer_id, operation, fields_read,"
        " fields_masked, fields_denied FROM access_log_object_all WHERE request_id = $1",
        uuid.UUID(request_id),
    )


async def register(owner: asyncpg.Connection, customers: int) -> list[factories.CustomerGraph]:
    product = await factories.product(owner)
    return [
        await factories.customer_graph(
            owner, product_id=product["id"], sites=2, invoices_per_contract=2
        )
        for _ in range(customers)
    ]


async def test_a_page_with_nested_lists_is_recorded_object_by_object_field_by_field(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    graphs = await register(owner, 3)
    response = await gql(client, PAGE, as_="customer_service", users=users, variables={"first": 10})
    assert response.status_code == 200, response.text
    body = response.json()
    request_id = body["extensions"]["requestId"]
    expected = returned_objects(body["data"])
    # 3 customers, 6 sites, 6 contracts (each reached twice), 12 invoices, 12 payments.
    assert sum(1 for key in expected if key[0] == "Customer") == 3
    assert len(expected) == 3 + 6 + 6 + 12 + 12

    rows = await logged_objects(owner, request_id)
    recorded = {
        (r["type_name"], r["object_id"]): set(r["fields_read"])
        | set(r["fields_masked"])
        | set(r["fields_denied"])
        for r in rows
    }
    assert len(rows) == len(recorded)  # one row per object, however often it was reached
    assert recorded == expected

    owners = {str(g.customer["id"]) for g in graphs}
    for row in rows:
        assert row["operation"] == "read"
        assert str(row["subject_customer_id"]) in owners
        if row["type_name"] == "Customer":
            assert row["fields_masked"] == ["personalIdentityCode"]
            assert row["fields_denied"] == ["collectionCases"]
            assert set(row["fields_read"]) == {
                "id",
                "customerNumber",
                "lastName",
                "sites",
                "contracts",
                "invoices",
            }
        if row["type_name"] == "Contract":  # reached through sites and customers
            assert set(row["fields_read"]) == {"id", "status", "contractNumber"}
    node = body["data"]["customers"]["edges"][0]["node"]
    assert node["collectionCases"] is None
    assert node["personalIdentityCode"].endswith("****")

    request = await owner.fetchrow(
        "SELECT * FROM access_log_request WHERE request_id = $1", uuid.UUID(request_id)
    )
    assert request["event"] == "graphql"
    assert request["outcome"] == "partial"
    assert request["principal"].startswith("user:")
    assert request["purpose"] == "customer_relationship"
    assert request["roles"] == ["customer_service"]
    assert request["operation_type"] == "query"
    assert request["operation_name"] in (None, "AuditPage")  # as the client named it
    assert request["client_address"] == "10.1.2.3"


async def test_variables_are_never_recorded(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    await register(owner, 1)
    sentinel = "Zyxwvutsrq"
    query = "query Find($f: CustomerFilter) { customers(filter: $f) { edges { node { id } } } }"
    response = await gql(
        client, query, as_="customer_service", users=users, variables={"f": {"name": sentinel}}
    )
    assert response.status_code == 200, response.text
    dump = await owner.fetchval(
        "SELECT string_agg(row_to_json(r)::text, ' ') FROM access_log_request r"
    )
    assert sentinel.lower() not in dump.lower()


async def test_refused_requests_are_recorded(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    response = await gql(client, PAGE, token="not-a-token")
    assert response.status_code == 401
    refused = response.json()["errors"][0]["extensions"]["requestId"]
    row = await owner.fetchrow(
        "SELECT outcome, principal FROM access_log_request WHERE request_id = $1",
        uuid.UUID(refused),
    )
    assert (row["outcome"], row["principal"]) == ("unauthenticated", None)

    response = await gql(client, PAGE, as_="customer_service", users=users, purpose="marketing")
    assert response.status_code == 403
    denied = response.json()["errors"][0]["extensions"]["requestId"]
    row = await owner.fetchrow(
        "SELECT outcome, purpose, detail FROM access_log_request WHERE request_id = $1",
        uuid.UUID(denied),
    )
    assert row["outcome"] == "denied"
    assert row["detail"] == "purpose not allowed"


async def test_concurrent_requests_each_have_their_record(
    app: Any, client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection, settings: Settings
) -> None:
    await register(owner, 2)
    await users.token("customer_service")

    async def one() -> tuple[str, int]:
        response = await gql(client, PAGE, as_="customer_service", users=users)
        assert response.status_code == 200, response.text
        body = response.json()
        return body["extensions"]["requestId"], len(returned_objects(body["data"]))

    async def sealer() -> None:
        for _ in range(10):
            async with app.state.sessionmaker() as session, session.begin():
                await seal_pending(session=session, settings=settings, wait_seconds=2.0)
            await asyncio.sleep(0.01)

    results, _ = await asyncio.gather(asyncio.gather(*(one() for _ in range(20))), sealer())
    counts = await owner.fetch(
        "SELECT request_id::text AS id, count(o.seq) AS objects FROM access_log_request r"
        " LEFT JOIN access_log_object_all o USING (request_id, at)"
        " WHERE r.request_id = ANY($1::uuid[]) GROUP BY request_id",
        [uuid.UUID(request_id) for request_id, _ in results],
    )
    assert {r["id"]: r["objects"] for r in counts} == dict(results)
    async with app.state.sessionmaker() as session, session.begin():
        await seal_pending(session=session, settings=settings, wait_seconds=5.0)
    async with owner_session(settings) as session:
        report = await verify(session=session, settings=settings)
    assert report.ok, report.summary()
    assert report.unsealed_rows == 0
    assert json.dumps(report.to_json())

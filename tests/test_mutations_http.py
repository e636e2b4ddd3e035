"""Mutations over HTTP: the endpoint's savepoint, error format and access log."""

from __future__ import annotations

from typing import Any

import httpx

from tests import factories
from tests.conftest import Users, gql
from tests.factories import on_customer

UPDATE = """
mutation Rectify($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { changeId customer { id email } }
}
"""


async def rectify(
    client: httpx.AsyncClient,
    users: Users,
    person: dict[str, Any],
    *,
    query: str = UPDATE,
    **fields: Any,
) -> httpx.Response:
    """The person's `fields` changed by `query` over HTTP, as customer service."""
    variables = on_customer(person, **fields)
    return await gql(client, query, as_="customer_service", users=users, variables=variables)


async def test_update_over_http_is_logged_and_errors_carry_the_field(
    client: httpx.AsyncClient, users: Users
) -> None:
    person = await factories.customer(users.owner)
    ok = await rectify(client, users, person, email="uusi@example.fi", reason="customer asked")
    body = ok.json()
    assert "errors" not in body, body
    assert body["data"]["updateCustomer"]["customer"]["email"] == "uusi@example.fi"
    writes = await users.owner.fetchval(
        "SELECT count(*) FROM access_log_object_all WHERE subject_customer_id = $1"
        " AND operation = 'write'",
        person["id"],
    )
    assert writes == 1

    bad = await rectify(client, users, person, email="broken", reason="typo")
    [error] = bad.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "input.email"
    assert bad.json()["data"] is None


async def test_forbidden_write_over_http_writes_nothing(
    client: httpx.AsyncClient, users: Users
) -> None:
    person = await factories.customer(users.owner)
    response = await rectify(
        client,
        users,
        person,
        query=UPDATE.replace("email }", "personalIdentityCode }"),
        personalIdentityCode="131052-308T",
        reason="x",
    )
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "FORBIDDEN",
        "coordinate": "Customer.personalIdentityCode",
        "purpose": "customer_relationship",
    }
    code = await users.owner.fetchval(
        "SELECT personal_identity_code FROM customer WHERE id = $1", person["id"]
    )
    assert code == person["personal_identity_code"]
    assert await users.owner.fetchval("SELECT count(*) FROM change_record") == 0


async def test_introspection_shows_a_role_only_its_mutations(
    client: httpx.AsyncClient, users: Users
) -> None:
    query = "{ __schema { types { name fields { name type { name ofType { name } } } } } }"
    names = {}
    for role in ("billing", "field_service"):
        response = await gql(client, query, as_=role, users=users)
        types = response.json()["data"]["__schema"]["types"]
        [mutation] = [t for t in types if t["name"] == "Mutation"]
        names[role] = {f["name"] for f in mutation["fields"]}
    assert "recordPayment" in names["billing"]
    assert "recordPayment" not in names["field_service"]
    assert "updateSite" in names["field_service"]
    assert "recordDisclosure" not in names["billing"]

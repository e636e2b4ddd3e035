"""Free text written to the register never holds a personal identity code."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from server.validators import find_identity_codes
from tests import factories
from tests.conftest import Users, gql, nodes

CODE = "240460-8088"  # a valid identity code (check character correct)
NOT_A_CODE = "240460-8089"  # the same digits with a wrong check character

UPDATE = """
mutation ($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { customer { email } }
}
"""
HISTORY = """
query ($id: ID!) { customer(id: $id) { personalIdentityCode history { edges { node { reason } } } } }
"""
RECORD_REQUEST = """
mutation ($input: RecordDataSubjectRequestInput!) {
  recordDataSubjectRequest(input: $input) { request { id } }
}
"""


def test_find_identity_codes_needs_a_valid_check_character() -> None:
    assert find_identity_codes(f"asiakas tunnistettu hetulla {CODE}") == [CODE]
    assert find_identity_codes(f"hetu {CODE.lower()}, uudelleen {CODE}.") == [CODE]
    assert find_identity_codes("131052-308t soitti") == ["131052-308T"]
    assert find_identity_codes(f"väärä tarkiste {NOT_A_CODE}") == []
    assert find_identity_codes("310299-1234 ei ole päivä") == []
    # Never a piece of a longer token: UUIDs, account numbers, references.
    assert find_identity_codes("6b0d3f5e-8a63-4f0e-9a57-2d4c1f0b7e21") == []
    assert find_identity_codes(f"X{CODE}") == [] and find_identity_codes(f"{CODE}9") == []


@pytest.fixture
async def person(owner: asyncpg.Connection) -> dict[str, Any]:
    """A customer of the register (a row)."""
    return await factories.customer(owner)


async def as_customer_service(
    client: httpx.AsyncClient, users: Users, query: str, **variables: Any
) -> dict[str, Any]:
    """The answer to `query` with `variables`, asked as customer service."""
    response = await gql(client, query, as_="customer_service", users=users, variables=variables)
    answer: dict[str, Any] = response.json()
    return answer


async def change_email(
    client: httpx.AsyncClient, users: Users, person: dict[str, Any], email: str, reason: str
) -> dict[str, Any]:
    """The answer to UPDATE of the person's e-mail address for `reason`, as customer service."""
    change = {"customerId": str(person["id"]), "email": email, "reason": reason}
    return await as_customer_service(client, users, UPDATE, input=change)


async def test_change_reason_with_an_identity_code_is_refused(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection, person: dict[str, Any]
) -> None:
    reason = f"asiakas tunnistettu hetulla {CODE}"
    body = await change_email(client, users, person, "uusi.osoite@example.fi", reason)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "input.reason"
    assert "identity code" in error["message"]
    assert CODE not in json.dumps(body)
    email = await owner.fetchval("SELECT email FROM customer WHERE id = $1", person["id"])
    assert email == person["email"]
    history = await as_customer_service(client, users, HISTORY, id=str(person["id"]))
    assert CODE not in json.dumps(history)
    stored = await owner.fetchval(
        "SELECT count(*) FROM change_record WHERE reason LIKE $1", f"%{CODE}%"
    )
    assert stored == 0


async def test_a_reason_without_a_valid_code_is_kept(
    client: httpx.AsyncClient, users: Users, person: dict[str, Any]
) -> None:
    reason = f"asiakas soitti, viite {NOT_A_CODE}"
    body = await change_email(client, users, person, "toinen.osoite@example.fi", reason)
    assert "errors" not in body, body
    history = await as_customer_service(client, users, HISTORY, id=str(person["id"]))
    assert nodes(history["data"]["customer"]["history"])[0]["reason"] == reason


@pytest.mark.parametrize("field", ["notes", "reference", "handler"])
async def test_request_notes_with_an_identity_code_are_refused(
    client: httpx.AsyncClient,
    users: Users,
    owner: asyncpg.Connection,
    person: dict[str, Any],
    field: str,
) -> None:
    request = {
        "customerId": str(person["id"]),
        "kind": "ACCESS",
        "channel": "WRITTEN_SIGNED",
        "receivedOn": date.today().isoformat(),
        field: f"kirjeessä hetu {CODE}",
    }
    response = await gql(
        client,
        RECORD_REQUEST,
        as_="auditor",
        users=users,
        purpose="oversight",
        variables={"input": request},
    )
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == f"input.{field}"
    assert CODE not in json.dumps(body)
    count = await owner.fetchval(
        "SELECT count(*) FROM data_subject_request WHERE customer_id = $1", person["id"]
    )
    assert count == 0

"""Customer mutations: create and rectify, per-field write checks, history, no partial writes."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests import factories
from tests.conftest import nodes
from tests.factories import customer_input
from tests.test_mutations_harness import Api, Result, api_fixture  # noqa: F401

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    changeId
    customer { id customerNumber firstName lastName email phone personalIdentityCode }
  }
}
"""
UPDATE = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    changeId
    customer { id email streetAddress postalCode personalIdentityCode }
  }
}
"""
HISTORY = """
query($id: ID!) {
  customer(id: $id) {
    history { edges { node {
      objectType action changedBy reason requestId
      changes { fieldName oldValue newValue withheld }
    } } }
  }
}
"""
NEW_PERSON = factories.person_input(email="maija@example.fi", phone="044 7355 230")


async def rectify(
    api: Api, customer: dict[str, Any], *, as_: str = "customer_service", **fields: Any
) -> Result:
    """UPDATE of the customer's `fields` (and a reason or a request), as `as_`."""
    return await api.mutate(UPDATE, as_=as_, input=customer_input(customer, **fields))


async def history_of(api: Api, customer: dict[str, Any], *, as_: str) -> Result:
    """The customer's change history (HISTORY) as `as_` sees it."""
    return await api.run(HISTORY, as_=as_, variables={"id": str(customer["id"])})


async def test_customer_service_creates_a_customer_with_history(api: Api) -> None:
    result = await api.mutate(CREATE, as_="customer_service", input=NEW_PERSON)
    payload = result.ok()["createCustomer"]
    customer = payload["customer"]
    assert customer["lastName"] == "Mehiläinen"
    assert customer["phone"] == "+358447355230"
    assert payload["changeId"]
    history = await api.run(HISTORY, as_="customer_service", variables={"id": customer["id"]})
    entries = nodes(history.ok()["customer"]["history"])
    assert [e["action"] for e in entries] == ["CREATE"]
    fields = {c["fieldName"]: c["newValue"] for c in entries[0]["changes"]}
    assert fields["email"] == "maija@example.fi"
    logged = await api.logged(result.request_id)
    writes = [r for r in logged if r["operation"] == "write"]
    assert writes and writes[0]["type_name"] == "Customer"
    assert "email" in writes[0]["fields_read"]


async def test_identity_code_needs_its_own_write_right(api: Api) -> None:
    before = await api.count("customer")
    result = await api.mutate(
        CREATE, as_="customer_service", input={**NEW_PERSON, "personalIdentityCode": "131052-308T"}
    )
    assert result.error()["code"] == "FORBIDDEN"
    assert result.error()["coordinate"] == "Customer.personalIdentityCode"
    assert result.data is None
    assert await api.count("customer") == before
    assert await api.count("change_record") == 0


async def test_bad_input_names_the_field_and_writes_nothing(api: Api) -> None:
    before = await api.count("customer")
    result = await api.mutate(
        CREATE, as_="customer_service", input={**NEW_PERSON, "email": "not an address"}
    )
    error = result.error()
    assert error["code"] == "BAD_USER_INPUT"
    assert error["field"] == "input.email"
    assert "contains whitespace" in error["reason"]
    assert await api.count("customer") == before


async def test_a_person_needs_a_last_name(api: Api) -> None:
    person = {k: v for k, v in NEW_PERSON.items() if k != "lastName"}
    result = await api.mutate(CREATE, as_="customer_service", input=person)
    assert result.error()["field"] == "input.lastName"


async def test_rectification_keeps_previous_values_who_when_why(api: Api) -> None:
    person = await factories.customer(api.owner)
    result = await rectify(
        api,
        person,
        email="uusi@example.fi",
        streetAddress="Uusikatu 1",
        reason="Customer phoned: moved",
    )
    updated = result.ok()["updateCustomer"]["customer"]
    assert updated["email"] == "uusi@example.fi"
    assert updated["streetAddress"] == "Uusikatu 1"
    history = await history_of(api, person, as_="customer_service")
    [entry] = nodes(history.ok()["customer"]["history"])
    assert entry["action"] == "UPDATE"
    assert entry["changedBy"] == "customer_service.tester"
    assert entry["reason"] == "Customer phoned: moved"
    changes = {c["fieldName"]: (c["oldValue"], c["newValue"]) for c in entry["changes"]}
    assert changes == {
        "email": (person["email"], "uusi@example.fi"),
        "streetAddress": (person["street_address"], "Uusikatu 1"),
    }


async def test_a_change_needs_a_reason_or_a_request(api: Api) -> None:
    person = await factories.customer(api.owner)
    result = await rectify(api, person, email="x@example.fi")
    assert result.error()["field"] == "input.reason"
    assert (
        await api.owner.fetchval("SELECT email FROM customer WHERE id = $1", person["id"])
        == (person["email"])
    )


async def test_no_partial_write_when_one_field_is_bad(api: Api) -> None:
    person = await factories.customer(api.owner)
    result = await rectify(
        api, person, email="fine@example.fi", postalCode="3480", reason="correction"
    )
    assert result.error()["field"] == "input.postalCode"
    row = await api.owner.fetchrow(
        "SELECT email, postal_code FROM customer WHERE id = $1", person["id"]
    )
    assert (row["email"], row["postal_code"]) == (person["email"], "34800")
    assert await api.count("change_record") == 0


async def test_two_mutations_in_one_request_roll_back_together(api: Api) -> None:
    person = await factories.customer(api.owner)
    document = """
    mutation($ok: UpdateCustomerInput!, $bad: UpdateCustomerInput!) {
      a: updateCustomer(input: $ok) { changeId }
      b: updateCustomer(input: $bad) { changeId }
    }
    """
    result = await api.run(
        document,
        as_="customer_service",
        variables={
            "ok": {"customerId": str(person["id"]), "phone": "0401234567", "reason": "r"},
            "bad": {"customerId": str(person["id"]), "email": "broken", "reason": "r"},
        },
    )
    assert "BAD_USER_INPUT" in result.codes
    phone = await api.owner.fetchval("SELECT phone FROM customer WHERE id = $1", person["id"])
    assert phone == person["phone"]
    assert await api.count("change_record") == 0


async def test_identity_code_change_by_billing_and_history_keeps_the_mask(api: Api) -> None:
    person = await factories.customer(api.owner)
    refused = await rectify(api, person, personalIdentityCode="131052-308T", reason="wrong code")
    assert refused.error()["coordinate"] == "Customer.personalIdentityCode"
    changed = await rectify(
        api,
        person,
        as_="billing",
        personalIdentityCode="131052-308T",
        reason="Population register extract",
    )
    assert changed.ok()["updateCustomer"]["customer"]["personalIdentityCode"] == "131052-308T"
    # Customer service sees the code masked, and so are its values in the history.
    seen = await history_of(api, person, as_="customer_service")
    [entry] = nodes(seen.ok()["customer"]["history"])
    [change] = entry["changes"]
    assert change["fieldName"] == "personalIdentityCode"
    assert change["newValue"] == "131052-****"
    assert change["oldValue"] == person["personal_identity_code"][:7] + "****"
    # The administrator sees the values; marketing and billing may not see the history.
    admin = await history_of(api, person, as_="administrator")
    assert nodes(admin.ok()["customer"]["history"])[0]["changes"][0]["newValue"] == "131052-308T"
    for role in ("marketing", "billing"):
        denied = await history_of(api, person, as_=role)
        assert denied.data is not None and denied.data["customer"]["history"] is None
        assert "Customer.history" in denied.denied


async def test_duplicate_identity_code_is_refused(api: Api) -> None:
    first = await factories.customer(api.owner)
    second = await factories.customer(api.owner)
    result = await rectify(
        api,
        second,
        as_="billing",
        personalIdentityCode=first["personal_identity_code"],
        reason="typo",
    )
    assert result.error()["reason"] == "duplicate"


async def test_a_customer_outside_the_scope_is_not_found(api: Api) -> None:
    person = await factories.customer(api.owner)
    result = await rectify(api, person, as_="auditor", email="a@b.fi", reason="r")
    assert result.error()["code"] == "FORBIDDEN"  # the auditor may not write contact data
    restricted = await factories.customer(api.owner, processing_restricted_at=date(2026, 1, 1))
    hidden = await rectify(api, restricted, email="a@b.fi", reason="r")
    assert hidden.error()["code"] == "BAD_USER_INPUT"
    assert hidden.error()["field"] == "input.customerId"
    assert hidden.error()["reason"] == "not found"


async def test_rectification_answering_a_request(api: Api) -> None:
    person = await factories.customer(api.owner)
    recorded = await api.mutate(
        """mutation($input: RecordDataSubjectRequestInput!) {
             recordDataSubjectRequest(input: $input) { request { id } } }""",
        as_="auditor",
        input=customer_input(
            person,
            kind="RECTIFICATION",
            channel="WRITTEN_SIGNED",
            receivedOn=date.today().isoformat(),
        ),
    )
    request_id = recorded.ok()["recordDataSubjectRequest"]["request"]["id"]
    result = await rectify(api, person, postalCode="33100", requestId=request_id)
    assert result.ok()["updateCustomer"]["customer"]["postalCode"] == "33100"
    history = await history_of(api, person, as_="customer_service")
    assert nodes(history.ok()["customer"]["history"])[0]["requestId"] == request_id
    other = await factories.customer(api.owner)
    wrong = await rectify(api, other, postalCode="33100", requestId=request_id)
    assert wrong.error()["field"] == "input.requestId"

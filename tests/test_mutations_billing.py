"""Billing mutations: payments by reference number, collection cases, security deposits."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from tests import factories
from tests.conftest import gid, nodes
from tests.factories import customer_input
from tests.test_mutations_harness import Api, Result, api_fixture, today  # noqa: F401

PAY = """
mutation($input: RecordPaymentInput!) {
  recordPayment(input: $input) { payment { id amount paidOn referenceNumber } invoice { status } }
}
"""
OPEN_CASE = """
mutation($input: OpenCollectionCaseInput!) {
  openCollectionCase(input: $input) {
    collectionCase { id stage amountDue agency { code } invoices { edges { node { status } } } }
  }
}
"""
ASSIGN_CASE = """
mutation($input: AssignCollectionCaseInput!) {
  assignCollectionCase(input: $input) { collectionCase { id stage agency { code } } }
}
"""
CLOSE_CASE = """
mutation($input: CloseCollectionCaseInput!) {
  closeCollectionCase(input: $input) { collectionCase { id stage closedOn } }
}
"""
AGENCY_CUSTOMERS = "{ customers { edges { node { id lastName } } } }"


async def _open_invoice(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    holder = await factories.customer(api.owner)
    bill = await factories.invoice(
        api.owner,
        customer_id=holder["id"],
        status="overdue",
        due_date=today() - timedelta(days=20),
        issue_date=today() - timedelta(days=40),
    )
    return holder, bill


async def pay(
    api: Api, reference: str, amount: str, *, as_: str = "billing", purpose: str | None = None
) -> Result:
    """PAY of `amount` euros by reference number, paid today."""
    payment = {"referenceNumber": reference, "amount": amount, "paidOn": today().isoformat()}
    return await api.mutate(PAY, as_=as_, purpose=purpose, input=payment)


async def test_payment_by_reference_settles_the_invoice(api: Api) -> None:
    _, bill = await _open_invoice(api)
    reference = str(bill["reference_number"])
    partial = await pay(api, f" {reference[:-3]} {reference[-3:]}", "40.00")
    assert partial.ok()["recordPayment"]["invoice"]["status"] == "OVERDUE"
    rest = await pay(api, reference, "60.40")
    payload = rest.ok()["recordPayment"]
    assert payload["payment"]["amount"] == "60.40"
    assert payload["invoice"]["status"] == "PAID"
    logged = await api.logged(rest.request_id)
    assert {("Payment", "write"), ("Invoice", "write")} <= {
        (r["type_name"], r["operation"]) for r in logged
    }


async def test_payment_refusals(api: Api) -> None:
    _, bill = await _open_invoice(api)
    reference = str(bill["reference_number"])
    wrong_check = await pay(api, "1234560", "1.00")
    assert wrong_check.error()["field"] == "input.referenceNumber"
    unknown = await pay(api, "1234561", "1.00")
    assert unknown.error()["reason"] == "not found"
    cents = await pay(api, reference, "1.001")
    assert cents.error()["field"] == "input.amount"
    not_billing = await pay(api, reference, "1.00", as_="customer_service", purpose="billing")
    assert not_billing.error()["coordinate"] == "Payment.amount"
    assert await api.count("payment") == 0


async def test_collection_case_open_assign_close(api: Api) -> None:
    holder, bill = await _open_invoice(api)
    agency = await api.organisation("perinta", "subcontractor")
    # A collection agency is a subcontractor whose people work collection cases.
    await factories.insert(
        api.owner,
        "app_user",
        {
            "id": uuid.uuid4(),
            "username": "perinta.kasittelija",
            "password_hash": "-",
            "organisation_id": agency,
            "roles": ["collection_agency"],
            "active": True,
        },
    )
    before = await api.run(AGENCY_CUSTOMERS, as_=("collection_agency", "perinta"))
    assert before.ok()["customers"]["edges"] == []
    opened = await api.mutate(
        OPEN_CASE, as_="billing", input=customer_input(holder, invoiceIds=[str(bill["id"])])
    )
    case = opened.ok()["openCollectionCase"]["collectionCase"]
    assert case["stage"] == "REMINDER"
    assert case["amountDue"] == "100.40"
    assert nodes(case["invoices"]) == [{"status": "IN_COLLECTION"}]
    assigned = await api.mutate(
        ASSIGN_CASE, as_="billing", input={"caseId": case["id"], "agencyId": str(agency)}
    )
    assert assigned.ok()["assignCollectionCase"]["collectionCase"]["agency"] == {"code": "perinta"}
    during = await api.run(AGENCY_CUSTOMERS, as_=("collection_agency", "perinta"))
    assert [e["node"]["id"] for e in during.ok()["customers"]["edges"]] == [
        gid("Customer", holder["id"])
    ]
    closed = await api.mutate(CLOSE_CASE, as_="billing", input={"caseId": case["id"]})
    assert closed.ok()["closeCollectionCase"]["collectionCase"]["stage"] == "CLOSED"
    after = await api.run(AGENCY_CUSTOMERS, as_=("collection_agency", "perinta"))
    assert after.ok()["customers"]["edges"] == []
    status = await api.owner.fetchval("SELECT status FROM invoice WHERE id = $1", bill["id"])
    assert status == "overdue"


async def test_collection_case_refuses_paid_invoices_and_other_customers(api: Api) -> None:
    holder, _ = await _open_invoice(api)
    other = await factories.customer(api.owner)
    paid = await factories.invoice(api.owner, customer_id=holder["id"], status="paid")
    foreign = await factories.invoice(api.owner, customer_id=other["id"], status="open")
    for invoice, reason in ((paid, "not unpaid"), (foreign, "other customer")):
        result = await api.mutate(
            OPEN_CASE, as_="billing", input=customer_input(holder, invoiceIds=[str(invoice["id"])])
        )
        assert result.error()["field"] == "input.invoiceIds.0"
        assert result.error()["reason"] == reason
    company = await api.organisation("ksat")
    not_agency = await api.mutate(
        OPEN_CASE, as_="billing", input=customer_input(holder, invoiceIds=[], agencyId=str(company))
    )
    assert not_agency.error()["field"] == "input.invoiceIds"
    assert await api.count("collection_case") == 0


async def test_security_deposit_recorded_and_returned(api: Api) -> None:
    holder = await factories.customer(api.owner)
    record = """mutation($input: RecordSecurityDepositInput!) {
      recordSecurityDeposit(input: $input) { deposit { id amount status reason } } }"""
    give_back = """mutation($input: ReturnSecurityDepositInput!) {
      returnSecurityDeposit(input: $input) { deposit { id status returnedOn } } }"""
    received = today() - timedelta(days=400)
    made = await api.mutate(
        record,
        as_="billing",
        input=customer_input(
            holder, amount="200.00", receivedOn=received.isoformat(), reason="payment defaults"
        ),
    )
    deposit = made.ok()["recordSecurityDeposit"]["deposit"]
    assert deposit["status"] == "HELD"
    early = await api.mutate(
        give_back,
        as_="billing",
        input={
            "depositId": deposit["id"],
            "returnedOn": (received - timedelta(days=1)).isoformat(),
        },
    )
    assert early.error()["field"] == "input.returnedOn"
    returned = await api.mutate(
        give_back,
        as_="billing",
        input={"depositId": deposit["id"], "returnedOn": today().isoformat()},
    )
    assert returned.ok()["returnSecurityDeposit"]["deposit"]["status"] == "RETURNED"
    twice = await api.mutate(
        give_back,
        as_="billing",
        input={"depositId": deposit["id"], "returnedOn": today().isoformat()},
    )
    assert twice.error()["reason"] == "not held"

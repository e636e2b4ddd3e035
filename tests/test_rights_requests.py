"""The requests register: due in one month, extendable by two, overdue ones listable."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from server.rights.requests import add_months, due_date, latest_extension
from tests import factories
from tests.factories import customer_input
from tests.test_mutations_harness import Api, api_fixture, today  # noqa: F401

RECORD = """
mutation($input: RecordDataSubjectRequestInput!) {
  recordDataSubjectRequest(input: $input) {
    request { id requestNumber kind channel receivedOn dueOn status handler overdue notes }
  }
}
"""
UPDATE = """
mutation($input: UpdateDataSubjectRequestInput!) {
  updateDataSubjectRequest(input: $input) {
    request { id status extendedDueOn completedOn overdue }
  }
}
"""
LIST = """
query($filter: DataSubjectRequestFilter) {
  dataSubjectRequests(filter: $filter) {
    edges { node { id requestNumber overdue dueOn customer { customerNumber } } }
  }
}
"""


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 1, 15), date(2026, 2, 15)),
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2024, 1, 31), date(2024, 2, 29)),
        (date(2026, 12, 10), date(2027, 1, 10)),
    ],
)
def test_due_in_one_month(received: date, due: date) -> None:
    assert due_date(received) == due


def test_extension_is_at_most_two_further_months() -> None:
    assert latest_extension(date(2026, 1, 31)) == date(2026, 4, 30)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


async def _record(
    api: Api, customer_id: object, received: date, kind: str = "ACCESS"
) -> dict[str, Any]:
    result = await api.mutate(
        RECORD,
        as_="auditor",
        input={
            "customerId": str(customer_id),
            "kind": kind,
            "channel": "WRITTEN_SIGNED",
            "receivedOn": received.isoformat(),
            "notes": "Signed letter, identity checked",
        },
    )
    request: dict[str, Any] = result.ok()["recordDataSubjectRequest"]["request"]
    return request


async def test_record_and_list_overdue_requests(api: Api) -> None:
    person = await factories.customer(api.owner)
    fresh = await _record(api, person["id"], today())
    assert fresh["dueOn"] == due_date(today()).isoformat()
    assert fresh["status"] == "RECEIVED"
    assert fresh["handler"] == "auditor.tester"
    assert fresh["overdue"] is False
    late = await _record(api, person["id"], today() - timedelta(days=45), "OBJECTION")
    assert late["overdue"] is True
    listed = await api.run(LIST, as_="auditor", variables={"filter": {"overdue": True}})
    nodes = [e["node"] for e in listed.ok()["dataSubjectRequests"]["edges"]]
    assert [n["id"] for n in nodes] == [late["id"]]
    assert nodes[0]["customer"] == {"customerNumber": person["customer_number"]}
    # Extending the deadline (at most two further months) takes it off the overdue list.
    too_far = await api.mutate(
        UPDATE,
        as_="auditor",
        input={
            "requestId": late["id"],
            "extendedDueOn": (today() + timedelta(days=70)).isoformat(),
        },
    )
    assert too_far.error()["field"] == "input.extendedDueOn"
    extended = await api.mutate(
        UPDATE,
        as_="auditor",
        input={
            "requestId": late["id"],
            "status": "IN_PROGRESS",
            "extendedDueOn": (today() + timedelta(days=10)).isoformat(),
        },
    )
    assert extended.ok()["updateDataSubjectRequest"]["request"]["overdue"] is False
    completed = await api.mutate(
        UPDATE, as_="auditor", input={"requestId": fresh["id"], "status": "COMPLETED"}
    )
    request = completed.ok()["updateDataSubjectRequest"]["request"]
    assert request["completedOn"] == today().isoformat()
    none_left = await api.run(LIST, as_="auditor", variables={"filter": {"overdue": True}})
    assert none_left.ok()["dataSubjectRequests"]["edges"] == []


async def test_only_the_roles_of_the_register_see_and_write_it(api: Api) -> None:
    person = await factories.customer(api.owner)
    await _record(api, person["id"], today())
    listed = await api.run(LIST, as_="customer_service")
    assert listed.ok()["dataSubjectRequests"]["edges"] == []
    refused = await api.mutate(
        RECORD,
        as_="customer_service",
        input=customer_input(
            person, kind="ACCESS", channel="OTHER", receivedOn=today().isoformat()
        ),
    )
    assert refused.error()["code"] == "FORBIDDEN"
    future = await api.mutate(
        RECORD,
        as_="auditor",
        input=customer_input(
            person,
            kind="ACCESS",
            channel="OTHER",
            receivedOn=(today() + timedelta(days=1)).isoformat(),
        ),
    )
    assert future.error()["field"] == "input.receivedOn"
    assert await api.count("data_subject_request") == 1

"""The access report is produced only by a role the policy allows, against an open access
request of the customer, and is logged field by field under GraphQL names."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from server.schema import catalogue
from server.settings import Settings
from tests import factories
from tests.conftest import Users, export_for_oversight, gql
from tests.scenario import Scenario, build_scenario

REPORT = """
query ($id: ID!) { dataSubjectReport(customerId: $id) { language content } }
"""
IDENTITY = """
query ($id: ID!) { customer(id: $id) { customerNumber personalIdentityCode } }
"""


@pytest.fixture
async def scenario(owner: asyncpg.Connection) -> Scenario:
    return await build_scenario(owner)


async def record_request(
    owner: asyncpg.Connection, customer_id: uuid.UUID, *, kind: str = "access", status: str
) -> dict[str, Any]:
    received = datetime.now(UTC).date() - timedelta(days=3)
    return await factories.insert(
        owner,
        "data_subject_request",
        {
            "id": uuid.uuid4(),
            "customer_id": customer_id,
            "kind": kind,
            "channel": "written_signed",
            "received_on": received,
            "due_on": received + timedelta(days=30),
            "status": status,
            "reference": "",
            "notes": "",
            "created_by": "test",
        },
    )


async def object_records(owner: asyncpg.Connection) -> str:
    """Where object records are read: every layout of the log in the shape of
    access_log_object (the view, when the log has one)."""
    view = await owner.fetchval("SELECT to_regclass('access_log_object_all')")
    return "access_log_object_all" if view is not None else "access_log_object"


async def logged(owner: asyncpg.Connection, request_id: str) -> list[dict[str, Any]]:
    rows = await owner.fetch(
        f"SELECT type_name, object_id, fields_read FROM {await object_records(owner)}"
        " WHERE request_id = $1",
        uuid.UUID(request_id),
    )
    return [dict(r) for r in rows]


async def about(
    client: httpx.AsyncClient,
    users: Users,
    query: str,
    person: dict[str, Any],
    *,
    as_: str = "auditor",
    purpose: str = "oversight",
) -> dict[str, Any]:
    """The answer to `query` about the person, asked as `as_` for `purpose`."""
    variables = {"id": str(person["id"])}
    response = await gql(client, query, as_=as_, users=users, purpose=purpose, variables=variables)
    body: dict[str, Any] = response.json()
    return body


def _codes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["extensions"] for e in body.get("errors", [])]


async def test_auditor_gets_no_report_without_an_open_access_request(
    client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    person = scenario.plain.customer
    # The auditor's own field decision: the identity code is denied...
    own = await about(client, users, IDENTITY, person)
    assert own["data"]["customer"]["personalIdentityCode"] is None
    assert any(e["code"] == "FORBIDDEN" for e in _codes(own))
    # ...and without a recorded request the report does not give it either.
    await record_request(owner, person["id"], kind="rectification", status="received")
    await record_request(owner, person["id"], status="completed")
    body = await about(client, users, REPORT, person)
    assert body["data"] is None or body["data"]["dataSubjectReport"] is None
    [error] = _codes(body)
    assert error["code"] == "BAD_USER_INPUT"
    assert error["field"] == "customerId"
    assert "access request" in body["errors"][0]["message"]
    assert person["personal_identity_code"] not in json.dumps(body)
    assert person["email"] not in json.dumps(body)


async def test_report_against_an_open_access_request_is_logged_by_graphql_fields(
    client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    person = scenario.plain.customer
    await record_request(owner, person["id"], status="in_progress")
    body = await about(client, users, REPORT, person)
    assert "errors" not in body, body
    content = body["data"]["dataSubjectReport"]["content"]
    [basic] = [s for s in content["sections"] if s["key"] == "customer"]
    values = {f["name"]: f["value"] for f in basic["items"][0]["fields"]}
    assert values["personal_identity_code"] == person["personal_identity_code"]

    rows = await logged(owner, body["extensions"]["requestId"])
    by_type: dict[str, set[str]] = {}
    for row in rows:
        by_type.setdefault(row["type_name"], set()).update(row["fields_read"] or [])
    assert {"personalIdentityCode", "email", "phone", "streetAddress"} <= by_type["Customer"]
    assert "directMarketingObjectionAt" in by_type["Customer"]
    assert {"meteringPointId"} <= by_type["Site"]
    assert {"referenceNumber", "totalInclVat"} <= by_type["Invoice"]
    assert {"amount", "paidOn"} <= by_type["Payment"]
    assert {"requestNumber", "status"} <= by_type["DataSubjectRequest"]
    assert "InvoiceLine" in by_type and "SecurityDeposit" in by_type
    # Every logged field is a field of its GraphQL type: no column names.
    fields = catalogue().fields
    for type_name, names in by_type.items():
        assert type_name in fields, type_name
        assert names <= fields[type_name], (type_name, names - fields[type_name])
        assert not any("_" in name for name in names)


async def test_roles_without_the_permission_get_forbidden(
    client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    person = scenario.plain.customer
    await record_request(owner, person["id"], status="received")
    for role, purpose in (("customer_service", "customer_relationship"), ("billing", "billing")):
        body = await about(client, users, REPORT, person, as_=role, purpose=purpose)
        [error] = _codes(body)
        assert error["code"] == "FORBIDDEN"
        assert error["coordinate"] == "DataSubjectReport.content"
        assert person["personal_identity_code"] not in json.dumps(body)


async def test_cli_export_needs_an_open_access_request(
    settings: Settings, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    person = scenario.plain.customer
    with pytest.raises(PermissionError, match="access request"):
        await export_for_oversight(settings, str(person["customer_number"]))
    records = await object_records(owner)
    exported = await owner.fetchval(
        f"SELECT count(*) FROM {records} WHERE subject_customer_id = $1", person["id"]
    )
    assert exported == 0
    await record_request(owner, person["id"], status="received")
    content, _ = await export_for_oversight(settings, str(person["customer_number"]))
    assert person["personal_identity_code"] in content.decode()
    names = await owner.fetchval(
        f"SELECT array_agg(DISTINCT f) FROM {records}, unnest(fields_read) AS f"
        " WHERE subject_customer_id = $1 AND type_name = 'Customer'",
        person["id"],
    )
    assert "personalIdentityCode" in names and "personal_identity_code" not in names

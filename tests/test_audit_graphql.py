"""Reading the log through GraphQL: policed like any type, and itself logged."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import strawberry
from strawberry.tools import merge_types
from strawberry.types import Info

from server.audit.queries import AccessLogQuery, access_history, customer_access_history
from server.audit.records import ObjectAccess
from server.audit.service import write_access_log
from server.audit.types import AccessHistoryEntry
from server.authz.decision import Access
from server.authz.masks import MASKS
from server.authz.principal import Principal, PrincipalKind
from server.db.session import StatementCounter
from server.graphql.context import RequestContext
from tests import audit_fixtures
from tests.audit_fixtures import AuditDb, request_record

audit_template = audit_fixtures.audit_template
audit_db = audit_fixtures.audit_db

CUSTOMER_A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
CUSTOMER_B = uuid.UUID("00000000-0000-4000-8000-00000000000b")


@dataclass
class FakePolicy:
    version: str = "test-policy"
    purposes: Mapping[str, str] = field(
        default_factory=lambda: {
            "oversight": "Security and data-protection oversight",
            "customer_relationship": "Managing the customer relationship",
            "billing": "Billing",
        }
    )


@dataclass
class FakeAccess:
    """Just what the resolvers ask of an AccessView."""

    fields: dict[str, Access]
    rows: set[str]
    masks: dict[str, str] = field(default_factory=dict)
    default: Access = Access.READ
    purpose: str = "oversight"
    policy: FakePolicy = field(default_factory=FakePolicy)
    today: date = field(default_factory=lambda: datetime.now(UTC).date())

    @property
    def policy_version(self) -> str:
        return self.policy.version

    def field(self, coordinate: str) -> Access:
        return self.fields.get(coordinate, self.default)

    def mask_for(self, coordinate: str) -> Any:
        name = self.masks.get(coordinate)
        return MASKS[name] if name else None

    def can_see_rows(self, type_name: str) -> bool:
        return type_name in self.rows


@strawberry.type(description="A customer (test stand-in).")
class Customer:
    id: strawberry.ID = strawberry.field(description="ID.")
    access_history: list[AccessHistoryEntry] | None = strawberry.field(
        resolver=customer_access_history, description="Accesses to the customer's data."
    )


def _customer(info: Info[Any, Any], id: strawberry.ID) -> Customer:
    return Customer(id=id)


@strawberry.type(description="Test root.")
class CustomerRoot:
    customer: Customer = strawberry.field(resolver=_customer, description="One customer.")


SCHEMA = strawberry.Schema(query=merge_types("Query", (AccessLogQuery, CustomerRoot)))

AUDITOR = Principal(
    kind=PrincipalKind.USER,
    id=uuid.UUID("00000000-0000-4000-8000-0000000000ad"),
    name="auditor",
    organisation_id=uuid.uuid4(),
    organisation_code="ksat",
    roles=("auditor",),
)


def auditor_access(**changes: Any) -> FakeAccess:
    values: dict[str, Any] = {
        "fields": {
            "AccessLogEntry.clientAddress": Access.DENY,
            "AccessLogEntry.principal": Access.MASK,
        },
        "rows": {"AccessLogEntry"},
        "masks": {"AccessLogEntry.principal": "redact"},
    }
    values.update(changes)
    return FakeAccess(**values)


@asynccontextmanager
async def context(db: AuditDb, access: FakeAccess) -> AsyncIterator[RequestContext]:
    async with db.app_session() as session:
        yield RequestContext(
            settings=db.settings,
            session=session,
            principal=AUDITOR,
            access=access,  # type: ignore[arg-type]
            request_id=uuid.uuid4(),
            client_address="10.9.9.9",
        )


def objects_of(customer: uuid.UUID, invoices: int) -> list[ObjectAccess]:
    found = [ObjectAccess("Customer", str(customer), customer, None, "read")]
    found[0].fields_read.update({"id", "customerNumber"})
    found[0].fields_masked.add("personalIdentityCode")
    found[0].fields_denied.add("email")
    for number in range(invoices):
        invoice = ObjectAccess("Invoice", f"invoice-{customer}-{number}", customer, None, "read")
        invoice.fields_read.update({"id", "status"})
        found.append(invoice)
    return found


async def seed(db: AuditDb) -> list[uuid.UUID]:
    """Three requests: A (customer_relationship), B, then A again (billing)."""
    now = datetime.now(UTC)
    plan = [
        (CUSTOMER_A, 2, "customer_relationship", now - timedelta(minutes=3)),
        (CUSTOMER_B, 1, "customer_relationship", now - timedelta(minutes=2)),
        (CUSTOMER_A, 0, "billing", now - timedelta(minutes=1)),
    ]
    ids = []
    for customer, invoices, purpose, at in plan:
        entry = request_record(purpose=purpose, at=at)
        async with db.app_session() as session:
            await write_access_log(session, entry, objects_of(customer, invoices))
        ids.append(entry.request_id)
    return ids


LOG_QUERY = """
query Log($customer: ID, $after: String) {
  accessLog(first: 1, after: $after, filter: {customerId: $customer}) {
    edges { cursor node {
      id requestId principal clientAddress purpose outcome objectCount
      objects { typeName objectId subjectCustomerId fieldsRead fieldsMasked fieldsDenied }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_access_log_pages_filters_polices_and_is_itself_logged(audit_db: AuditDb) -> None:
    first_id, _, third_id = await seed(audit_db)
    access = auditor_access()
    async with context(audit_db, access) as ctx:
        result = await SCHEMA.execute(
            LOG_QUERY, variable_values={"customer": str(CUSTOMER_A)}, context_value=ctx
        )
        assert result.errors is None, result.errors
        assert result.data is not None
        page = result.data["accessLog"]
        assert page["pageInfo"]["hasNextPage"] is True
        [edge] = page["edges"]
        node = edge["node"]
        assert node["requestId"] == str(third_id)
        assert node["purpose"] == "billing"
        assert node["clientAddress"] is None  # denied
        assert node["principal"] is not None and node["principal"] != AUDITOR.log_ref
        assert node["objectCount"] == 1
        assert node["objects"] == [
            {
                "typeName": "Customer",
                "objectId": str(CUSTOMER_A),
                "subjectCustomerId": str(CUSTOMER_A),
                "fieldsRead": ["customerNumber", "id"],
                "fieldsMasked": ["personalIdentityCode"],
                "fieldsDenied": ["email"],
            }
        ]
        second = await SCHEMA.execute(
            LOG_QUERY,
            variable_values={"customer": str(CUSTOMER_A), "after": edge["cursor"]},
            context_value=ctx,
        )
        assert second.errors is None, second.errors
        assert second.data is not None
        [older] = second.data["accessLog"]["edges"]
        assert older["node"]["requestId"] == str(first_id)
        assert older["node"]["objectCount"] == 3
        assert [o["typeName"] for o in older["node"]["objects"]] == [
            "Customer",
            "Invoice",
            "Invoice",
        ]
        assert second.data["accessLog"]["pageInfo"]["hasNextPage"] is False

        # What the auditor saw is recorded like any read: entries and objects, no subject.
        seen = {(o.type_name, o.object_id): o for o in ctx.collector.objects}
        entry = seen[("AccessLogEntry", node["id"])]
        assert entry.subject_customer_id is None
        assert entry.fields_masked == {"principal"}
        assert entry.fields_denied == {"clientAddress"}
        assert {"id", "requestId", "purpose", "outcome", "objectCount"} <= entry.fields_read
        log_objects = [o for o in ctx.collector.objects if o.type_name == "AccessLogObject"]
        assert len(log_objects) == 4
        assert all(o.subject_customer_id is None for o in log_objects)
        assert "AccessLogEntry.clientAddress" in ctx.collector.denied_coordinates

        auditor_request = request_record(principal=AUDITOR.log_ref, purpose="oversight")
        await write_access_log(ctx.session, auditor_request, ctx.collector.objects)

    async with context(audit_db, access) as ctx:
        result = await SCHEMA.execute(
            '{ accessLog(filter: {purpose: "oversight"}) { edges { node {'
            " requestId objectCount objects { typeName } } } } }",
            context_value=ctx,
        )
    assert result.errors is None, result.errors
    assert result.data is not None
    [logged] = result.data["accessLog"]["edges"]
    assert logged["node"]["requestId"] == str(auditor_request.request_id)
    assert logged["node"]["objectCount"] == 6
    assert {o["typeName"] for o in logged["node"]["objects"]} == {
        "AccessLogEntry",
        "AccessLogObject",
    }


async def test_access_log_needs_a_row_scope_and_readable_filters(audit_db: AuditDb) -> None:
    await seed(audit_db)
    async with context(audit_db, auditor_access(rows=set())) as ctx:
        result = await SCHEMA.execute(LOG_QUERY, context_value=ctx)
    assert result.errors is None
    assert result.data == {
        "accessLog": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    }

    async with context(audit_db, auditor_access()) as ctx:
        result = await SCHEMA.execute(
            '{ accessLog(filter: {principal: "user:x"}) { edges { node { id } } } }',
            context_value=ctx,
        )
    assert result.errors is not None
    assert result.errors[0].extensions is not None
    assert result.errors[0].extensions["code"] == "FORBIDDEN"

    denied = auditor_access(fields={"AccessLogEntry.objects": Access.DENY})
    async with context(audit_db, denied) as ctx:
        result = await SCHEMA.execute(
            "{ accessLog { edges { node { id objects { typeName } } } } }", context_value=ctx
        )
        assert result.data is not None
        assert [e["node"]["objects"] for e in result.data["accessLog"]["edges"]] == [None] * 3
        assert "AccessLogEntry.objects" in ctx.collector.denied_coordinates


async def test_objects_first_limits_each_entry(audit_db: AuditDb) -> None:
    await seed(audit_db)
    async with context(audit_db, auditor_access()) as ctx:
        result = await SCHEMA.execute(
            "{ accessLog { edges { node { objectCount objects(first: 1) { typeName } } } } }",
            context_value=ctx,
        )
    assert result.errors is None, result.errors
    assert result.data is not None
    assert [
        (e["node"]["objectCount"], len(e["node"]["objects"]))
        for e in result.data["accessLog"]["edges"]
    ] == [(1, 1), (2, 1), (3, 1)]


HISTORY_QUERY = """
{
  a: customer(id: "00000000-0000-4000-8000-00000000000a") {
    accessHistory { at purpose purposeDescription operations dataCategories }
  }
  b: customer(id: "00000000-0000-4000-8000-00000000000b") { accessHistory { purpose } }
}
"""


async def test_access_history_gives_dates_purposes_and_categories_only(audit_db: AuditDb) -> None:
    await seed(audit_db)
    assert not {"principal", "organisation", "clientAddress", "roles"} & {
        f.name
        for f in AccessHistoryEntry.__strawberry_definition__.fields  # type: ignore[attr-defined]
    }
    access = FakeAccess(fields={}, rows=set(), purpose="customer_relationship")
    counter = StatementCounter(audit_db.app)
    async with context(audit_db, access) as ctx:
        before = counter.count
        result = await SCHEMA.execute(HISTORY_QUERY, context_value=ctx)
        assert counter.count - before == 1  # both customers in one query
        assert result.errors is None, result.errors
        assert result.data is not None
        history = result.data["a"]["accessHistory"]
        assert [(h["purpose"], h["dataCategories"]) for h in history] == [
            ("billing", ["Customer"]),
            ("customer_relationship", ["Customer", "Invoice"]),
        ]
        assert history[0]["purposeDescription"] == "Billing"
        assert history[0]["operations"] == ["read"]
        assert datetime.fromisoformat(history[0]["at"]) > datetime.fromisoformat(history[1]["at"])
        assert result.data["b"]["accessHistory"] == [{"purpose": "customer_relationship"}]
        entries = [o for o in ctx.collector.objects if o.type_name == "AccessHistoryEntry"]
        assert {o.subject_customer_id for o in entries} == {CUSTOMER_A, CUSTOMER_B}

    denied = FakeAccess(fields={"Customer.accessHistory": Access.DENY}, rows=set())
    async with context(audit_db, denied) as ctx:
        result = await SCHEMA.execute(HISTORY_QUERY, context_value=ctx)
        assert result.data is not None
        assert result.data["a"]["accessHistory"] is None
        assert "Customer.accessHistory" in ctx.collector.denied_coordinates


async def test_access_history_without_info_records_every_field(audit_db: AuditDb) -> None:
    await seed(audit_db)
    access = FakeAccess(fields={"AccessHistoryEntry.purposeDescription": Access.DENY}, rows=set())
    async with context(audit_db, access) as ctx:
        entries = await access_history(ctx=ctx, customer_id=CUSTOMER_B)
        assert len(entries) == 1
        assert entries[0].purpose == "customer_relationship"
        assert entries[0].purpose_description is None
        [touched] = ctx.collector.objects
        assert touched.subject_customer_id == CUSTOMER_B
        assert touched.fields_denied == {"purposeDescription"}
        assert touched.fields_read == {"at", "purpose", "operations", "dataCategories"}


@pytest.mark.parametrize("bad", ["not-an-id", "12"])
async def test_a_malformed_customer_filter_is_a_user_error(audit_db: AuditDb, bad: str) -> None:
    async with context(audit_db, auditor_access()) as ctx:
        result = await SCHEMA.execute(
            "query($c: ID) { accessLog(filter: {customerId: $c}) { edges { cursor } } }",
            variable_values={"c": bad},
            context_value=ctx,
        )
    assert result.errors is not None
    assert result.errors[0].extensions is not None
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"

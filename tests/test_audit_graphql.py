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

from server.audit.queries import AccessLogQuery, access_history
from server.audit.records import ObjectAccess
from server.audit.service import write_access_log
from server.audit.types import AccessHistoryEntry, customer_access_history
from server.authz.decision import Access
from server.authz.masks import MASKS
from server.db.session import StatementCounter
from server.graphql.context import RequestContext
from server.graphql.relay import Connection, encode_cursor
from tests.conftest import nodes
from tests.dbserver import Database
from tests.factories import request_record, user_principal

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
    access_history: Connection[AccessHistoryEntry] | None = strawberry.field(
        resolver=customer_access_history, description="Accesses to the customer's data."
    )


def _customer(info: Info[Any, Any], id: strawberry.ID) -> Customer:
    return Customer(id=id)


@strawberry.type(description="Test root.")
class CustomerRoot:
    customer: Customer = strawberry.field(resolver=_customer, description="One customer.")


SCHEMA = strawberry.Schema(query=merge_types("Query", (AccessLogQuery, CustomerRoot)))

AUDITOR = user_principal("auditor", "auditor", id=uuid.UUID("00000000-0000-4000-8000-0000000000ad"))


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
async def context(db: Database, access: FakeAccess) -> AsyncIterator[RequestContext]:
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


async def seed(db: Database) -> list[uuid.UUID]:
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


async def test_access_log_pages_filters_polices_and_is_itself_logged(audit_db: Database) -> None:
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


async def test_access_log_needs_a_row_scope_and_readable_filters(audit_db: Database) -> None:
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


async def test_objects_first_limits_each_entry(audit_db: Database) -> None:
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
    accessHistory { edges { node { at purpose purposeDescription operations dataCategories } } }
  }
  b: customer(id: "00000000-0000-4000-8000-00000000000b") {
    accessHistory { edges { node { purpose } } }
  }
}
"""


async def test_access_history_gives_dates_purposes_and_categories_only(audit_db: Database) -> None:
    await seed(audit_db)
    assert not {"principal", "organisation", "clientAddress", "roles"} & {
        f.name
        for f in AccessHistoryEntry.__strawberry_definition__.fields  # type: ignore[attr-defined]
    }
    access = FakeAccess(fields={}, rows=set(), purpose="customer_relationship")
    counter = StatementCounter(audit_db.app_engine)
    async with context(audit_db, access) as ctx:
        before = counter.count
        result = await SCHEMA.execute(HISTORY_QUERY, context_value=ctx)
        assert counter.count - before == 1  # both customers in one query
        assert result.errors is None, result.errors
        assert result.data is not None
        history = nodes(result.data["a"]["accessHistory"])
        assert [(h["purpose"], h["dataCategories"]) for h in history] == [
            ("billing", ["Customer"]),
            ("customer_relationship", ["Customer", "Invoice"]),
        ]
        assert history[0]["purposeDescription"] == "Billing"
        assert history[0]["operations"] == ["read"]
        assert datetime.fromisoformat(history[0]["at"]) > datetime.fromisoformat(history[1]["at"])
        assert nodes(result.data["b"]["accessHistory"]) == [{"purpose": "customer_relationship"}]
        entries = [o for o in ctx.collector.objects if o.type_name == "AccessHistoryEntry"]
        assert {o.subject_customer_id for o in entries} == {CUSTOMER_A, CUSTOMER_B}

    denied = FakeAccess(fields={"Customer.accessHistory": Access.DENY}, rows=set())
    async with context(audit_db, denied) as ctx:
        result = await SCHEMA.execute(HISTORY_QUERY, context_value=ctx)
        assert result.data is not None
        assert result.data["a"]["accessHistory"] is None
        assert "Customer.accessHistory" in ctx.collector.denied_coordinates


async def test_access_history_without_info_records_every_field(audit_db: Database) -> None:
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
async def test_a_malformed_customer_filter_is_a_user_error(audit_db: Database, bad: str) -> None:
    async with context(audit_db, auditor_access()) as ctx:
        result = await SCHEMA.execute(
            "query($c: ID) { accessLog(filter: {customerId: $c}) { edges { cursor } } }",
            variable_values={"c": bad},
            context_value=ctx,
        )
    assert result.errors is not None
    assert result.errors[0].extensions is not None
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"


# --- Customer.accessHistory as a connection ---------------------------------------------

HISTORY_PAGE = """
query($id: ID!, $first: Int, $after: String, $filter: AccessHistoryFilter) {
  customer(id: $id) {
    accessHistory(first: $first, after: $after, filter: $filter) {
      totalCount
      edges { cursor node { at purpose } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""
PURPOSES = ("customer_relationship", "billing", "oversight")


async def seed_history(db: Database, count: int) -> list[tuple[str, datetime]]:
    """`count` reads of customer A a minute apart (purposes in turn), then one of B:
    (purpose, time) of A's, oldest first."""
    start = datetime.now(UTC) - timedelta(minutes=count + 1)
    plan = [(PURPOSES[n % 3], start + timedelta(minutes=n)) for n in range(count)]
    for purpose, at in plan:
        async with db.app_session() as session:
            await write_access_log(
                session, request_record(purpose=purpose, at=at), objects_of(CUSTOMER_A, 1)
            )
    async with db.app_session() as session:
        await write_access_log(session, request_record(), objects_of(CUSTOMER_B, 0))
    return plan


async def history_page(
    ctx: RequestContext, customer: uuid.UUID = CUSTOMER_A, **variables: Any
) -> dict[str, Any]:
    result = await SCHEMA.execute(
        HISTORY_PAGE, variable_values={"id": str(customer), **variables}, context_value=ctx
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    page: dict[str, Any] = result.data["customer"]["accessHistory"]
    return page


async def history_error(ctx: RequestContext, **variables: Any) -> dict[str, Any]:
    result = await SCHEMA.execute(
        HISTORY_PAGE, variable_values={"id": str(CUSTOMER_A), **variables}, context_value=ctx
    )
    assert result.errors is not None
    assert result.data == {"customer": {"accessHistory": None}}
    [error] = result.errors
    assert error.extensions is not None
    return error.extensions


def auditor_reading_history(**fields: Access) -> FakeAccess:
    return FakeAccess(fields=dict(fields), rows=set())


async def test_access_history_pages_newest_first_and_counts(audit_db: Database) -> None:
    plan = await seed_history(audit_db, 5)
    async with context(audit_db, auditor_reading_history()) as ctx:
        seen: list[tuple[str, str]] = []
        cursor = None
        while True:
            page = await history_page(ctx, first=2, after=cursor)
            assert page["totalCount"] == 5
            assert page["pageInfo"]["hasPreviousPage"] is False
            seen += [(e["node"]["purpose"], e["node"]["at"]) for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            cursor = page["pageInfo"]["endCursor"]
        assert [purpose for purpose, _ in seen] == [purpose for purpose, _ in reversed(plan)]
        assert [datetime.fromisoformat(at) for _, at in seen] == [at for _, at in reversed(plan)]
        # The report's whole list is the same history, in the same order.
        whole = await access_history(ctx=ctx, customer_id=CUSTOMER_A)
        assert [entry.at for entry in whole] == [at for _, at in reversed(plan)]
        # After the last entry's cursor: an empty page, not an error.
        end = page["pageInfo"]["endCursor"]
        assert (await history_page(ctx, first=2, after=end))["edges"] == []


async def test_access_history_filters_by_purpose_and_time(audit_db: Database) -> None:
    plan = await seed_history(audit_db, 6)
    async with context(audit_db, auditor_reading_history()) as ctx:
        billing = await history_page(ctx, filter={"purpose": "billing"})
        assert billing["totalCount"] == 2
        assert [e["node"]["purpose"] for e in billing["edges"]] == ["billing", "billing"]
        window = {"from": plan[1][1].isoformat(), "to": plan[4][1].isoformat()}
        middle = await history_page(ctx, first=2, filter=window)
        assert middle["totalCount"] == 3
        assert [datetime.fromisoformat(e["node"]["at"]) for e in middle["edges"]] == [
            plan[3][1],
            plan[2][1],
        ]
        rest = await history_page(
            ctx, first=2, filter=window, after=middle["pageInfo"]["endCursor"]
        )
        assert [datetime.fromisoformat(e["node"]["at"]) for e in rest["edges"]] == [plan[1][1]]
        assert rest["pageInfo"]["hasNextPage"] is False
        backwards = {"from": plan[4][1].isoformat(), "to": plan[1][1].isoformat()}
        refused = await history_error(ctx, filter=backwards)
        assert refused["code"] == "BAD_USER_INPUT" and refused["field"] == "filter.from"


async def test_access_history_filters_need_read_access_unless_the_relation_is_denied(
    audit_db: Database,
) -> None:
    await seed_history(audit_db, 2)
    masked = auditor_reading_history(**{"AccessHistoryEntry.at": Access.MASK})
    async with context(audit_db, masked) as ctx:
        refused = await history_error(ctx, filter={"to": datetime.now(UTC).isoformat()})
        assert refused["code"] == "FORBIDDEN"
        assert refused["coordinate"] == "AccessHistoryEntry.at"
        assert (await history_page(ctx))["totalCount"] == 2  # unfiltered, `at` masked: fine
    denied = auditor_reading_history(
        **{"Customer.accessHistory": Access.DENY, "AccessHistoryEntry.at": Access.DENY}
    )
    async with context(audit_db, denied) as ctx:
        result = await SCHEMA.execute(
            HISTORY_PAGE,
            variable_values={"id": str(CUSTOMER_A), "filter": {"from": "2026-01-01T00:00:00Z"}},
            context_value=ctx,
        )
        assert result.errors is None
        assert result.data == {"customer": {"accessHistory": None}}
        assert "Customer.accessHistory" in ctx.collector.denied_coordinates
        assert not [o for o in ctx.collector.objects if o.type_name == "AccessHistoryEntry"]


async def test_access_history_cursors_name_an_entry_of_the_customers_asked_for(
    audit_db: Database,
) -> None:
    await seed_history(audit_db, 3)
    async with context(audit_db, auditor_reading_history()) as ctx:
        of_b = (await history_page(ctx, CUSTOMER_B))["edges"][0]["cursor"]
        own = (await history_page(ctx, first=1))["pageInfo"]["endCursor"]
        assert len((await history_page(ctx, after=own))["edges"]) == 2
        for cursor in (of_b, encode_cursor([10**9]), encode_cursor([uuid.uuid4()]), "nonsense"):
            refused = await history_error(ctx, after=cursor)
            assert refused["code"] == "BAD_USER_INPUT", cursor
            assert refused["field"] == "after"


async def test_access_history_costs_two_statements_for_any_number_of_customers(
    audit_db: Database,
) -> None:
    await seed_history(audit_db, 3)
    query = """{
      a: customer(id: "00000000-0000-4000-8000-00000000000a") {
        accessHistory(first: 1) { totalCount edges { node { purpose } } } }
      b: customer(id: "00000000-0000-4000-8000-00000000000b") {
        accessHistory(first: 1) { totalCount edges { node { purpose } } } }
    }"""
    counter = StatementCounter(audit_db.app_engine)
    async with context(audit_db, auditor_reading_history()) as ctx:
        before = counter.count
        result = await SCHEMA.execute(query, context_value=ctx)
        assert counter.count - before == 2  # the pages, then the counts
    assert result.errors is None, result.errors
    assert result.data is not None
    assert [result.data[k]["accessHistory"]["totalCount"] for k in "ab"] == [3, 1]


# --- accessLog: orders, both directions, counts ------------------------------------------

LOG_PAGE = """
query($first: Int, $last: Int, $after: String, $before: String,
      $order: [AccessLogEntryOrder!], $filter: AccessLogFilter) {
  accessLog(first: $first, last: $last, after: $after, before: $before, orderBy: $order,
            filter: $filter) {
    totalCount
    edges { cursor node { requestId purpose } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def log_page(ctx: RequestContext, **variables: Any) -> dict[str, Any]:
    result = await SCHEMA.execute(LOG_PAGE, variable_values=variables, context_value=ctx)
    assert result.errors is None, result.errors
    assert result.data is not None
    page: dict[str, Any] = result.data["accessLog"]
    return page


async def walk_log(
    ctx: RequestContext, order: list[dict[str, str]], *, backwards: bool
) -> list[str]:
    """Request IDs of every page of one entry, forwards or backwards from the end."""
    seen: list[str] = []
    cursor = None
    while True:
        if backwards:
            page = await log_page(ctx, order=order, last=1, before=cursor)
        else:
            page = await log_page(ctx, order=order, first=1, after=cursor)
        assert page["totalCount"] == 3
        ids = [edge["node"]["requestId"] for edge in page["edges"]]
        seen = ids + seen if backwards else seen + ids
        info = page["pageInfo"]
        assert not (info["hasNextPage"] if backwards else info["hasPreviousPage"])
        if not (info["hasPreviousPage"] if backwards else info["hasNextPage"]):
            return seen
        cursor = info["startCursor"] if backwards else info["endCursor"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ([], [2, 1, 0]),
        ([{"field": "PURPOSE"}], [2, 0, 1]),  # billing, then the two others in ID order
        (
            [{"field": "PURPOSE", "direction": "DESC"}, {"field": "AT", "direction": "DESC"}],
            [1, 0, 2],
        ),
        ([{"field": "AT"}], [0, 1, 2]),
    ],
)
async def test_access_log_orders_page_both_ways_to_the_same_list(
    audit_db: Database, order: list[dict[str, str]], expected: list[int]
) -> None:
    ids = [str(request_id) for request_id in await seed(audit_db)]
    async with context(audit_db, auditor_access()) as ctx:
        forwards = await walk_log(ctx, order, backwards=False)
        assert forwards == [ids[n] for n in expected]
        assert await walk_log(ctx, order, backwards=True) == forwards


async def test_access_log_cursors_count_and_refusals(audit_db: Database) -> None:
    first_id, second_id, third_id = (str(i) for i in await seed(audit_db))
    async with context(audit_db, auditor_access()) as ctx:
        page = await log_page(ctx, first=3)
        cursors = [edge["cursor"] for edge in page["edges"]]
        between = await log_page(ctx, first=10, after=cursors[0], before=cursors[2])
        assert [e["node"]["requestId"] for e in between["edges"]] == [second_id]
        assert between["totalCount"] == 3  # the cursors do not change the count
        filtered = await log_page(ctx, first=1, filter={"customerId": str(CUSTOMER_A)})
        assert filtered["totalCount"] == 2
        assert [e["node"]["requestId"] for e in filtered["edges"]] == [third_id]
        last = await log_page(ctx, last=1, filter={"customerId": str(CUSTOMER_A)})
        assert [e["node"]["requestId"] for e in last["edges"]] == [first_id]
        assert last["pageInfo"]["hasPreviousPage"] is True

        refusals: list[tuple[dict[str, Any], str, str]] = [
            ({"after": encode_cursor([10**12])}, "BAD_USER_INPUT", "after"),
            ({"last": 1, "before": "nonsense"}, "BAD_USER_INPUT", "before"),
            ({"first": 1, "last": 1}, "BAD_USER_INPUT", "last"),
        ]
        for variables, code, field_name in refusals:
            result = await SCHEMA.execute(LOG_PAGE, variable_values=variables, context_value=ctx)
            assert result.errors is not None, variables
            extensions = result.errors[0].extensions or {}
            assert (extensions.get("code"), extensions.get("field")) == (code, field_name)

        masked_order = await SCHEMA.execute(
            LOG_PAGE, variable_values={"order": [{"field": "PRINCIPAL"}]}, context_value=ctx
        )
        assert masked_order.data is None and masked_order.errors is not None
        assert masked_order.errors[0].extensions == {
            "code": "FORBIDDEN",
            "coordinate": "AccessLogEntry.principal",
            "purpose": "oversight",
        }

    async with context(audit_db, auditor_access(rows=set())) as ctx:
        nothing = await log_page(ctx, order=[{"field": "PRINCIPAL"}])
        assert (nothing["totalCount"], nothing["edges"]) == (0, [])

"""Connections as front ends use them: ordering, paging both ways, counts, nested pages,
global IDs and `node`, each answered alike by both executors (`assert_same`) and checked
against the database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories
from tests.conftest import Users, gid, gql
from tests.scenario import AGENCY_A, Scenario, build_scenario
from tests.test_compiled import assert_same, both

ORDERED = """
query Ordered($first: Int, $last: Int, $after: String, $before: String, $order: [CustomerOrder!]) {
  customers(first: $first, last: $last, after: $after, before: $before, orderBy: $order) {
    totalCount
    edges { cursor node { id lastName createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


@pytest.fixture
async def scenario(owner: asyncpg.Connection) -> Scenario:
    scenario = await build_scenario(owner)
    now = datetime.now(UTC)
    for n in range(3):  # organisations: no last name (NULLs sort last either way)
        await factories.customer(
            owner,
            **factories.company(f"Yhtiö {n} Oy", factories.make_business_id(2_234_560 + n)),
            created_at=now - timedelta(days=n),
        )
    # Two people with the same last name: the tie-breaker decides between them.
    for _ in range(2):
        await factories.customer(owner, last_name="Aho", created_at=now - timedelta(days=9))
    return scenario


async def expected_order(owner: asyncpg.Connection, order: str) -> list[str]:
    rows = await owner.fetch(f"SELECT id FROM customer ORDER BY {order}")
    return [gid("Customer", row[0]) for row in rows]


def node_ids(body: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in body["data"]["customers"]["edges"]]


async def walk(
    app: Any,
    client: httpx.AsyncClient,
    users: Users,
    order: list[dict[str, str]],
    *,
    backwards: bool,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Every page of size 2, forwards from the start or backwards from the end."""
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        variables: dict[str, Any] = {"order": order}
        if backwards:
            variables.update(last=2, before=cursor)
        else:
            variables.update(first=2, after=cursor)
        body = await assert_same(
            app, client, users, ORDERED, as_="customer_service", variables=variables
        )
        page = body["data"]["customers"]
        pages.append(page)
        ids = node_ids(body)
        seen = ids + seen if backwards else seen + ids
        info = page["pageInfo"]
        more = info["hasPreviousPage"] if backwards else info["hasNextPage"]
        assert not (info["hasNextPage"] if backwards else info["hasPreviousPage"])
        if not more:
            return seen, pages
        cursor = info["startCursor"] if backwards else info["endCursor"]


@pytest.mark.parametrize(
    ("order", "sql"),
    [
        ([], "customer_number"),
        (
            [{"field": "LAST_NAME", "direction": "DESC"}, {"field": "CREATED_AT"}],
            "last_name DESC NULLS LAST, created_at, id",
        ),
        ([{"field": "LAST_NAME"}], "last_name NULLS LAST, id"),
        ([{"field": "CUSTOMER_NUMBER", "direction": "DESC"}], "customer_number DESC"),
    ],
)
@pytest.mark.usefixtures("scenario")
async def test_orders_page_forwards_and_backwards_to_the_same_list(
    app: Any,
    client: httpx.AsyncClient,
    users: Users,
    owner: asyncpg.Connection,
    order: list[dict[str, str]],
    sql: str,
) -> None:
    expected = await expected_order(owner, sql)
    forwards, pages = await walk(app, client, users, order, backwards=False)
    assert forwards == expected
    assert {page["totalCount"] for page in pages} == {len(expected)}
    backwards, _ = await walk(app, client, users, order, backwards=True)
    assert backwards == expected


@pytest.mark.usefixtures("scenario")
async def test_cursors_of_one_order_resume_after_their_row(
    app: Any, client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    """A cursor names a row: between `after` and `before` lies what lies between them."""
    order = [{"field": "CREATED_AT", "direction": "DESC"}]
    expected = await expected_order(owner, "created_at DESC, id")
    first = await assert_same(
        app, client, users, ORDERED, as_="customer_service", variables={"order": order, "first": 6}
    )
    edges = first["data"]["customers"]["edges"]
    variables = {
        "order": order,
        "first": 10,
        "after": edges[1]["cursor"],
        "before": edges[5]["cursor"],
    }
    between = await assert_same(
        app, client, users, ORDERED, as_="customer_service", variables=variables
    )
    assert node_ids(between) == expected[2:5]


@pytest.mark.usefixtures("scenario")
async def test_count_is_the_row_scope_and_the_filters(
    app: Any, client: httpx.AsyncClient, users: Users
) -> None:
    query = """query($f: CustomerFilter) { customers(first: 1, filter: $f) { totalCount } }"""
    agency = await assert_same(app, client, users, query, as_=AGENCY_A, purpose="billing")
    assert agency["data"]["customers"]["totalCount"] == 1
    aho = await assert_same(
        app, client, users, query, as_="customer_service", variables={"f": {"name": "aho"}}
    )
    assert aho["data"]["customers"]["totalCount"] == 2


@pytest.mark.usefixtures("scenario")
async def test_ordering_by_a_field_not_readable_in_full_is_forbidden(
    app: Any, client: httpx.AsyncClient, users: Users
) -> None:
    query = """{ customers(orderBy: [{field: LAST_NAME}]) { edges { node { id } } } }"""
    compiled, resolver = await both(
        app, client, users, query, as_="business_analyst", purpose="business_development"
    )
    for body in (compiled, resolver):
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["extensions"]["coordinate"] == "Customer.lastName"


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 1, "last": 1}, "last"), ({"last": -1}, "last"), ({"before": "nonsense"}, "before")],
)
@pytest.mark.usefixtures("scenario")
async def test_bad_paging_arguments_name_the_argument(
    app: Any, client: httpx.AsyncClient, users: Users, variables: dict[str, Any], field: str
) -> None:
    compiled, resolver = await both(
        app, client, users, ORDERED, as_="customer_service", variables=variables
    )
    for body in (compiled, resolver):
        [error] = body["errors"]
        assert error["extensions"] == {
            **error["extensions"],
            "code": "BAD_USER_INPUT",
            "field": field,
        }


async def test_a_before_cursor_outside_the_scope_is_refused(
    client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    from server.graphql.relay import encode_cursor

    foreign = encode_cursor([scenario.in_collection_b.customer["id"]])
    body = (
        await gql(
            client,
            ORDERED,
            as_=AGENCY_A,
            users=users,
            purpose="billing",
            variables={"last": 5, "before": foreign},
        )
    ).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "before"


# --- nested connections ----------------------------------------------------------------

INVOICES = """
query Invoices($id: ID!, $first: Int, $after: String, $filter: InvoiceListFilter) {
  customer(id: $id) {
    invoices(first: $first, after: $after, filter: $filter) {
      totalCount
      edges { cursor node { id issueDate status payments(first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage } } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


@pytest.fixture
async def billed(owner: asyncpg.Connection, scenario: Scenario) -> dict[str, Any]:
    """A customer with eleven invoices over a year, three of them open, one paid twice."""
    holder = await factories.customer(owner)
    invoices = []
    for month in range(1, 12):
        status = "open" if month > 8 else "paid"
        issued = datetime(2026, month, 1).date()
        invoices.append(
            await factories.invoice(
                owner,
                customer_id=holder["id"],
                status=status,
                issue_date=issued,
                due_date=issued + timedelta(days=14),
            )
        )
    for amount in ("10.00", "20.00"):
        await factories.payment(owner, invoice_id=invoices[0]["id"], amount=Decimal(amount))
    return {"customer": holder, "invoices": invoices}


async def test_a_customers_invoices_page_on_both_executors(
    app: Any, client: httpx.AsyncClient, users: Users, billed: dict[str, Any]
) -> None:
    newest_first = [gid("Invoice", row["id"]) for row in reversed(billed["invoices"])]
    variables: dict[str, Any] = {"id": str(billed["customer"]["id"]), "first": 4}
    seen: list[str] = []
    while True:
        body = await assert_same(
            app,
            client,
            users,
            INVOICES,
            as_="customer_service",
            purpose="billing",
            variables=variables,
        )
        page = body["data"]["customer"]["invoices"]
        assert page["totalCount"] == 11
        assert page["pageInfo"]["hasPreviousPage"] is False
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = page["pageInfo"]["endCursor"]
    assert seen == newest_first
    january = body["data"]["customer"]["invoices"]["edges"][-1]["node"]["payments"]
    assert january["totalCount"] == 2 and len(january["edges"]) == 1
    assert january["pageInfo"]["hasNextPage"] is True


async def test_nested_filters_by_status_and_date_range(
    app: Any, client: httpx.AsyncClient, users: Users, billed: dict[str, Any]
) -> None:
    variables: dict[str, Any] = {
        "id": str(billed["customer"]["id"]),
        "filter": {"status": "OPEN", "issuedFrom": "2026-10-01", "issuedTo": "2026-12-31"},
    }
    body = await assert_same(
        app, client, users, INVOICES, as_="customer_service", purpose="billing", variables=variables
    )
    page = body["data"]["customer"]["invoices"]
    assert page["totalCount"] == 2
    assert [edge["node"]["issueDate"] for edge in page["edges"]] == ["2026-11-01", "2026-10-01"]


async def test_a_nested_filter_under_a_denied_relation_is_the_relations_denial(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    """Field service sees sites but not their contracts: the relation is null with its
    FORBIDDEN, and its filter is not looked at."""
    query = """query($id: ID!) { site(id: $id) {
      contracts(filter: {status: ACTIVE}) { edges { node { id } } } } }"""
    compiled, resolver = await both(
        app,
        client,
        users,
        query,
        as_=("field_service", "kenttapalvelu-a"),
        purpose="delivery",
        variables={"id": str(scenario.assigned_site_a["id"])},
    )
    assert compiled["extensions"]["executor"] == "compiled"
    assert compiled["data"] == resolver["data"] == {"site": {"contracts": None}}
    [error] = resolver["errors"]
    assert error["extensions"]["coordinate"] == "Site.contracts"
    assert [e["extensions"] for e in compiled["errors"]] == [error["extensions"]]


def test_a_nested_filter_needs_read_access_to_the_fields_it_tests() -> None:
    """No shipped role may read a relation but not its filter's fields; the check itself:"""
    from server.billing.loaders import INVOICE_LIST_FILTER
    from server.graphql.errors import ForbiddenError
    from server.graphql.guards import checked_filter
    from tests.test_scope_leaks import field_service_view

    access = field_service_view()

    class Check:
        def __init__(self) -> None:
            self.access = access
            self.purpose = "delivery"

    with pytest.raises(ForbiddenError) as refused:
        checked_filter(Check(), {"issuedFrom": "2026-01-01"}, INVOICE_LIST_FILTER.coordinates)
    assert refused.value.extensions == {
        "code": "FORBIDDEN",
        "coordinate": "Invoice.issueDate",
        "purpose": "delivery",
    }
    assert checked_filter(Check(), {}, INVOICE_LIST_FILTER.coordinates) == {}


async def test_a_nested_cursor_of_another_parent_or_outside_the_scope_is_refused(
    app: Any, client: httpx.AsyncClient, users: Users, billed: dict[str, Any], scenario: Scenario
) -> None:
    """A cursor must name a row of the relation under the parents asked for: a payment of
    another customer's invoice (payments have no scope of their own) reveals nothing."""
    from server.graphql.relay import encode_cursor

    other = scenario.in_collection_b.invoices[0]
    probes = [
        ("customer_service", "billing", encode_cursor([other["id"]])),
        ("customer_service", "billing", encode_cursor([scenario.plain.contracts[0]["id"]])),
    ]
    query = """query($id: ID!, $after: String) { customer(id: $id) {
      invoices(first: 2, after: $after) { edges { node { id } } } } }"""
    for role, purpose, cursor in probes:
        compiled, resolver = await both(
            app,
            client,
            users,
            query,
            as_=role,
            purpose=purpose,
            variables={"id": str(billed["customer"]["id"]), "after": cursor},
        )
        assert compiled["data"] == resolver["data"] == {"customer": {"invoices": None}}
        [error] = resolver["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["field"] == "after"
        assert error["path"] == ["customer", "invoices"]
    payments = """query($id: ID!, $after: String) { invoice(id: $id) {
      payments(after: $after) { edges { node { id } } } } }"""
    foreign_payment = await users.owner.fetchval(
        "SELECT id FROM payment WHERE invoice_id = $1", other["id"]
    )
    _, resolver = await both(
        app,
        client,
        users,
        payments,
        as_="customer_service",
        purpose="billing",
        variables={
            "id": str(billed["invoices"][0]["id"]),
            "after": encode_cursor([foreign_payment]),
        },
    )
    assert resolver["errors"][0]["extensions"]["field"] == "after"


# --- global IDs and node ---------------------------------------------------------------

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Customer { customerNumber lastName personalIdentityCode }
    ... on Site { meteringPointId customer { id } }
    ... on Contract { contractNumber contractStatus: status }
    ... on Invoice { invoiceNumber invoiceStatus: status }
    ... on InvoiceLine { lineNumber description }
    ... on Payment { amount paidOn }
    ... on CollectionCase { stage }
    ... on Product { code prices { edges { node { id vatRate } } } }
    ... on Price { vatRate }
    ... on Offer { offerStatus: status product { code } }
    ... on Organisation { code }
    ...Named
  }
}
fragment Named on Node { id }
"""


async def global_ids(owner: asyncpg.Connection, scenario: Scenario) -> dict[str, str]:
    """A global ID of each type the compiled executor reads, from the scenario."""
    plain = scenario.plain
    line = await owner.fetchrow(
        "SELECT invoice_id, line_number FROM invoice_line WHERE invoice_id = $1",
        plain.invoices[0]["id"],
    )
    offer = await factories.offer(
        owner, product_id=scenario.product["id"], customer_id=plain.customer["id"]
    )
    return {
        "Customer": gid("Customer", plain.customer["id"]),
        "Site": gid("Site", plain.sites[0]["id"]),
        "Contract": gid("Contract", plain.contracts[0]["id"]),
        "Invoice": gid("Invoice", plain.invoices[0]["id"]),
        "InvoiceLine": gid("InvoiceLine", f"{line['invoice_id']}:{line['line_number']}"),
        "Payment": gid(
            "Payment",
            await owner.fetchval(
                "SELECT id FROM payment WHERE invoice_id = $1", plain.invoices[0]["id"]
            ),
        ),
        "CollectionCase": gid(
            "CollectionCase",
            await owner.fetchval(
                "SELECT id FROM collection_case WHERE customer_id = $1",
                scenario.in_collection_a.customer["id"],
            ),
        ),
        "Product": gid("Product", scenario.product["id"]),
        "Price": gid(
            "Price",
            await owner.fetchval(
                "SELECT id FROM price WHERE product_id = $1", scenario.product["id"]
            ),
        ),
        "Offer": gid("Offer", offer["id"]),
        "Organisation": gid("Organisation", scenario.organisations["perinta-a"]["id"]),
    }


@pytest.mark.parametrize(
    ("role", "purpose"),
    [
        ("customer_service", "customer_relationship"),
        ("billing", "billing"),
        (AGENCY_A, "billing"),
        ("marketing", "marketing"),
    ],
)
async def test_node_finds_every_type_by_its_global_id_on_both_executors(
    app: Any,
    client: httpx.AsyncClient,
    users: Users,
    scenario: Scenario,
    owner: asyncpg.Connection,
    role: Any,
    purpose: str,
) -> None:
    ids = await global_ids(owner, scenario)
    for type_name, global_id in ids.items():
        body = await assert_same(
            app, client, users, NODE, as_=role, purpose=purpose, variables={"id": global_id}
        )
        found = body["data"]["node"]
        if found is not None:
            assert found["__typename"] == type_name and found["id"] == global_id
        elif role == "customer_service":  # its cases only for billing
            assert type_name == "CollectionCase", type_name
    answer = await assert_same(
        app,
        client,
        users,
        f"{{ nodes(ids: {json.dumps(list(ids.values()))}) {{ id }} }}",
        as_=role,
        purpose=purpose,
    )
    shown = [item and item["id"] for item in answer["data"]["nodes"]]
    assert all(item in (None, expected) for item, expected in zip(shown, ids.values(), strict=True))


async def test_an_object_outside_the_scope_is_null_exactly_like_its_look_up(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    """Agency A sees its own case's customer and invoices, nothing of agency B's."""
    theirs, ours = scenario.in_collection_b, scenario.in_collection_a
    foreign_payment = await owner.fetchval(
        "SELECT id FROM payment WHERE invoice_id = $1", theirs.invoices[0]["id"]
    )
    query = """query($c: ID!, $i: ID!) {
      customer(id: $c) { id } node(id: $c) { id }
      invoice(id: $i) { id } invoiceNode: node(id: $i) { id } }"""
    for graph, visible in ((theirs, False), (ours, True)):
        variables = {
            "c": gid("Customer", graph.customer["id"]),
            "i": gid("Invoice", graph.invoices[-1]["id"]),
        }
        body = await assert_same(
            app, client, users, query, as_=AGENCY_A, purpose="billing", variables=variables
        )
        data = body["data"]
        assert (data["customer"] is not None) == visible
        assert data["node"] == data["customer"]
        assert data["invoiceNode"] == data["invoice"]
    payment = await assert_same(
        app,
        client,
        users,
        NODE,
        as_=AGENCY_A,
        purpose="billing",
        variables={"id": gid("Payment", foreign_payment)},
    )
    assert payment["data"]["node"] is None


async def test_nodes_answer_in_the_order_asked_with_null_for_the_unknown(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    site, customer = scenario.plain.sites[1]["id"], scenario.plain.customer["id"]
    ids = [
        gid("Site", site),
        gid("Customer", uuid.uuid4()),
        gid("Customer", customer),
        gid("Site", site),
    ]
    query = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Customer { lastName } } }"
    )
    body = await assert_same(
        app, client, users, query, as_="customer_service", variables={"ids": ids}
    )
    found = body["data"]["nodes"]
    assert [item and item["id"] for item in found] == [ids[0], None, ids[2], ids[0]]
    assert found[2]["__typename"] == "Customer" and found[2]["lastName"]


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "not-base64!"}, "id"),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "Zm9v"}, "id"),  # "foo"
        ("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Customer", "x")}, "id"),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": gid("Nothing", uuid.UUID(int=1))},
            "id",
        ),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            {"ids": [gid("Site", uuid.UUID(int=1)), "x"]},
            "ids[1]",
        ),
    ],
)
@pytest.mark.usefixtures("scenario")
async def test_a_malformed_global_id_is_bad_user_input_naming_the_argument(
    app: Any,
    client: httpx.AsyncClient,
    users: Users,
    query: str,
    variables: dict[str, Any],
    field: str,
) -> None:
    compiled, resolver = await both(
        app, client, users, query, as_="customer_service", variables=variables
    )
    assert compiled["data"] == resolver["data"]
    [error] = resolver["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert [e["extensions"] for e in compiled["errors"]] == [error["extensions"]]


async def test_look_ups_take_global_ids_and_still_bare_uuids(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    raw = scenario.plain.customer["id"]
    query = "query($id: ID!) { customer(id: $id) { id } }"
    for given, expected in (
        (gid("Customer", raw), gid("Customer", raw)),
        (str(raw), gid("Customer", raw)),
        (gid("Site", raw), None),  # another type's ID names no customer
        ("garbage", None),
    ):
        body = await assert_same(
            app, client, users, query, as_="customer_service", variables={"id": given}
        )
        found = body["data"]["customer"]
        assert (found and found["id"]) == expected, given


async def test_the_access_log_records_the_rows_uuid(
    client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    raw = scenario.plain.customer["id"]
    body = (
        await gql(
            client,
            NODE,
            as_="customer_service",
            users=users,
            variables={"id": gid("Customer", raw)},
        )
    ).json()
    rows = await owner.fetch(
        "SELECT type_name, object_id, subject_customer_id FROM access_log_objects("
        "ARRAY[$1::uuid], now() - interval '1 hour', now() + interval '1 hour', NULL)",
        body["extensions"]["requestId"],
    )
    assert [(r["type_name"], r["object_id"], r["subject_customer_id"]) for r in rows] == [
        ("Customer", str(raw), raw)
    ]


# --- products and offers ---------------------------------------------------------------

CATALOGUE = """
query Catalogue($order: [OfferOrder!]) {
  products(first: 5) { totalCount edges { node { id code kind prices { edges { node { vatRate validFrom } } } } } }
  offers(first: 10, orderBy: $order) { totalCount edges { node { id status validUntil product { code } } } }
}
"""


async def test_products_and_offers_under_the_policy_on_both_executors(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    product = scenario.product["id"]
    willing = await factories.prospect(owner)
    lapsed = await factories.prospect(
        owner, consent_expires_on=datetime.now(UTC).date() - timedelta(days=1)
    )
    made = {
        "customer": await factories.offer(
            owner, product_id=product, customer_id=scenario.plain.customer["id"]
        ),
        "objector": await factories.offer(
            owner, product_id=product, customer_id=scenario.objector.customer["id"]
        ),
        "prospect": await factories.offer(owner, product_id=product, prospect_id=willing["id"]),
        "lapsed": await factories.offer(owner, product_id=product, prospect_id=lapsed["id"]),
    }
    expected = {
        "customer_service": {"customer", "objector", "prospect"},
        "marketing": {"customer", "prospect"},  # no objector, no lapsed consent
    }
    order = [{"field": "VALID_UNTIL"}, {"field": "CREATED_AT", "direction": "DESC"}]
    for role, purpose in (
        ("customer_service", "customer_relationship"),
        ("marketing", "marketing"),
    ):
        body = await assert_same(
            app, client, users, CATALOGUE, as_=role, purpose=purpose, variables={"order": order}
        )
        offers = body["data"]["offers"]
        shown = {
            name
            for name, row in made.items()
            if gid("Offer", row["id"]) in {e["node"]["id"] for e in offers["edges"]}
        }
        assert shown == expected[role] and offers["totalCount"] == len(shown)
        assert body["data"]["products"]["totalCount"] == 1
    agency = await assert_same(app, client, users, CATALOGUE, as_=AGENCY_A, purpose="billing")
    assert agency["data"]["products"] == {"totalCount": 0, "edges": []}
    assert agency["data"]["offers"] == {"totalCount": 0, "edges": []}


# --- the access log's lists --------------------------------------------------------------

LOG_LISTS = """
query Trail($id: ID!, $until: DateTime) {
  customer(id: $id) {
    accessHistory(first: 1, filter: {to: $until}) {
      totalCount
      edges { cursor node { purpose dataCategories } }
      pageInfo { hasNextPage endCursor }
    }
  }
  accessLog(last: 1, filter: {customerId: $id, to: $until}, orderBy: [{field: PURPOSE}]) {
    totalCount
    edges { node { purpose } }
    pageInfo { hasPreviousPage }
  }
}
"""


async def fallback_alike(
    app: Any, client: httpx.AsyncClient, users: Users, query: str, **options: Any
) -> dict[str, Any]:
    """Both apps answer with the resolver executor, alike; the resolver's answer."""
    compiled, resolver = await both(app, client, users, query, **options)
    assert compiled["extensions"]["executor"] == resolver["extensions"]["executor"] == "resolver"
    assert compiled["data"] == resolver["data"]
    assert [e["extensions"] for e in compiled.get("errors", [])] == [
        e["extensions"] for e in resolver.get("errors", [])
    ]
    return resolver


async def test_the_access_logs_lists_are_answered_alike_by_the_resolver_fallback(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    """The compiled executor leaves `accessLog` and `Customer.accessHistory` to the resolver
    executor; the answers are the same (`to` keeps each request's own read out of both)."""
    customer = gid("Customer", scenario.plain.customer["id"])
    for purpose in ("customer_relationship", "billing"):
        await gql(
            client,
            "query($id: ID!) { customer(id: $id) { id customerNumber } }",
            as_="customer_service",
            users=users,
            purpose=purpose,
            variables={"id": customer},
        )
    variables = {"id": customer, "until": datetime.now(UTC).isoformat()}
    resolver = await fallback_alike(
        app, client, users, LOG_LISTS, as_="auditor", purpose="oversight", variables=variables
    )
    history = resolver["data"]["customer"]["accessHistory"]
    assert history["totalCount"] == 2 and history["pageInfo"]["hasNextPage"] is True
    assert [e["node"] for e in history["edges"]] == [
        {"purpose": "billing", "dataCategories": ["Customer"]}
    ]
    log = resolver["data"]["accessLog"]
    assert log["totalCount"] == 2 and log["pageInfo"]["hasPreviousPage"] is True
    assert [e["node"]["purpose"] for e in log["edges"]] == ["customer_relationship"]
    older = await fallback_alike(
        app,
        client,
        users,
        LOG_LISTS.replace("first: 1,", "first: 1, after: $after,").replace(
            "$until: DateTime)", "$until: DateTime, $after: String)"
        ),
        as_="auditor",
        purpose="oversight",
        variables={**variables, "after": history["pageInfo"]["endCursor"]},
    )
    assert [e["node"]["purpose"] for e in older["data"]["customer"]["accessHistory"]["edges"]] == [
        "customer_relationship"
    ]


async def test_the_access_history_is_forbidden_to_roles_that_may_not_read_it(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    """Customer service sees the customer but not its access history, and reads no log;
    a collection agency sees neither outside its cases, on both executors."""
    customer = gid("Customer", scenario.plain.customer["id"])
    query = """query($id: ID!) {
      customer(id: $id) { id accessHistory(filter: {purpose: "billing"}) { totalCount } }
      accessLog(first: 1) { totalCount edges { node { id } } }
    }"""
    resolver = await fallback_alike(
        app, client, users, query, as_="customer_service", variables={"id": customer}
    )
    assert resolver["data"]["customer"]["accessHistory"] is None
    assert resolver["data"]["accessLog"] == {"totalCount": 0, "edges": []}
    [error] = resolver["errors"]
    assert error["extensions"]["coordinate"] == "Customer.accessHistory"
    outside = await fallback_alike(
        app, client, users, query, as_=AGENCY_A, purpose="billing", variables={"id": customer}
    )
    assert outside["data"] == {"customer": None, "accessLog": {"totalCount": 0, "edges": []}}

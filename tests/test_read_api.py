"""The read API: pagination, filters, nesting without N+1, consumption, service endpoints."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from server.graphql.relay import decode_cursor
from tests import factories
from tests.conftest import Users, gql, raw_id
from tests.scenario import build_scenario

PAGE = """
query Page($first: Int, $after: String) {
  customers(first: $first, after: $after) {
    edges { cursor node { id customerNumber lastName } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

FULL_PAGE = """
query Full($first: Int, $nested: Int) {
  customers(first: $first) {
    edges { node {
      id lastName email
      sites(first: $nested) { edges { node { id mainFuse
        contracts(first: $nested) { edges { node { id status product { name } } } } } } }
      contracts(first: $nested) { edges { node { id contractNumber
        product { name prices(first: $nested) { edges { node { vatRate } } } } } } }
      invoices(first: $nested) { totalCount edges { node { id referenceNumber
        lines { description } payments(first: $nested) { edges { node { amount } } } } } }
      deposits(first: $nested) { edges { node { id amount } } }
      collectionCases(first: $nested) { edges { node { id stage agency { name }
        invoices(first: $nested) { edges { node { id } } } } } }
    } }
  }
}
"""

SEARCH = """
query Search($filter: CustomerFilter) {
  customers(first: 50, filter: $filter) { edges { node { id } } }
}
"""

CONSUMPTION = """
query Use($id: ID!, $resolution: ConsumptionResolution!) {
  site(id: $id) {
    consumption(from: "2025-12-31T22:00:00Z", to: "2026-01-02T22:00:00Z", resolution: $resolution) {
      periodStart energyKwh valuesCount allMeasured
    }
  }
}
"""


def data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def test_pages_follow_each_other_without_gaps(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    created = [await factories.customer(owner) for _ in range(5)]
    seen: list[str] = []
    after = None
    while True:
        page = data(
            await gql(
                client,
                PAGE,
                as_="customer_service",
                users=users,
                variables={"first": 2, "after": after},
            )
        )["customers"]
        seen.extend(raw_id(edge["node"]["id"]) for edge in page["edges"])
        for edge in page["edges"]:  # a cursor carries the row's ID, not its sort value
            assert decode_cursor(edge["cursor"], parts=1) == [raw_id(edge["node"]["id"])]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [str(c["id"]) for c in sorted(created, key=lambda c: c["customer_number"])]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 1000}, "first"),
        ({"first": -1}, "first"),
        ({"after": "bm90IGEgY3Vyc29y"}, "after"),
    ],
)
async def test_bad_paging_arguments_are_refused(
    client: httpx.AsyncClient, users: Users, variables: dict[str, Any], field: str
) -> None:
    body = (
        await gql(client, PAGE, as_="customer_service", users=users, variables=variables)
    ).json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert body["data"] is None


async def test_filters_of_the_customer_service_screen(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    scenario = await build_scenario(owner)
    plain = scenario.plain.customer
    cases = [
        ({"name": plain["last_name"].upper()}, {plain["id"]}),
        ({"customerNumber": plain["customer_number"]}, {plain["id"]}),
        ({"meteringPointId": scenario.plain.sites[1]["metering_point_id"]}, {plain["id"]}),
        (
            {"invoiceStatus": "IN_COLLECTION"},
            {scenario.in_collection_a.customer["id"], scenario.in_collection_b.customer["id"]},
        ),
    ]
    for search, expected in cases:
        found = data(
            await gql(
                client, SEARCH, as_="customer_service", users=users, variables={"filter": search}
            )
        )["customers"]["edges"]
        assert {raw_id(edge["node"]["id"]) for edge in found} == {str(i) for i in expected}, search


async def test_overdue_filter(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    product = await factories.product(owner)
    late = await factories.customer_graph(owner, product_id=product["id"], sites=1)
    await factories.past_due_invoice(owner, customer_id=late.customer["id"], status="open")
    on_time = await factories.customer_graph(owner, product_id=product["id"], sites=1)
    found = data(
        await gql(
            client,
            SEARCH,
            as_="customer_service",
            users=users,
            variables={"filter": {"overdue": True}},
        )
    )["customers"]["edges"]
    ids = {raw_id(edge["node"]["id"]) for edge in found}
    assert str(late.customer["id"]) in ids
    assert str(on_time.customer["id"]) not in ids


async def _statements_for_page(
    app: Any, client: httpx.AsyncClient, users: Users, first: int, nested: int = 5
) -> tuple[int, int]:
    await users.token("administrator")
    before = app.state.statements.count
    response = await gql(
        client,
        FULL_PAGE,
        as_="administrator",
        users=users,
        purpose="billing",
        variables={"first": first, "nested": nested},
    )
    edges = data(response)["customers"]["edges"]
    return app.state.statements.count - before, len(edges)


@pytest.mark.usefixtures("resolver_executor")
async def test_statement_count_does_not_grow_with_page_size(
    app: Any, client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    """The resolver executor: one statement per relation and request, whatever the page
    size at the root and in the nested connections (and one more for the count asked)."""
    scenario = await build_scenario(owner)
    for _ in range(100):
        await factories.customer_graph(
            owner, product_id=scenario.product["id"], sites=1, invoices_per_contract=1
        )
    small, small_count = await _statements_for_page(app, client, users, 10, nested=1)
    large, large_count = await _statements_for_page(app, client, users, 100, nested=5)
    assert (small_count, large_count) == (10, 100)
    assert small == large
    assert large <= 20


async def test_the_compiled_executor_reads_a_nested_page_in_one_statement(
    app: Any, client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    scenario = await build_scenario(owner)
    for _ in range(20):
        await factories.customer_graph(
            owner, product_id=scenario.product["id"], sites=1, invoices_per_contract=1
        )
    await users.token("administrator")
    baseline, _ = await _statements_for_page(app, client, users, 0)
    compiled = app.state.runner.compiled
    for first in (10, 20):
        executions = compiled.executions
        sqlalchemy_statements, count = await _statements_for_page(app, client, users, first)
        assert count == first
        assert compiled.executions - executions == 1  # the page and its log records
        assert sqlalchemy_statements == baseline  # the rest is authentication


@pytest.mark.parametrize(
    ("resolution", "points", "energy"),
    [("HOUR", 48, "1.500"), ("DAY", 2, "36.000"), ("MONTH", 1, "72.000")],
)
async def test_consumption_is_aggregated_in_sql(
    client: httpx.AsyncClient,
    users: Users,
    owner: asyncpg.Connection,
    resolution: str,
    points: int,
    energy: str,
) -> None:
    scenario = await build_scenario(owner)
    result = data(
        await gql(
            client,
            CONSUMPTION,
            as_="customer_service",
            users=users,
            variables={"id": str(scenario.plain.sites[0]["id"]), "resolution": resolution},
        )
    )["site"]["consumption"]
    assert len(result) == points
    assert {point["energyKwh"] for point in result} == {energy}
    assert all(point["allMeasured"] for point in result)


async def test_requests_without_credentials_get_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ customers { edges { cursor } } }"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_only_json_posts_are_executed(client: httpx.AsyncClient, users: Users) -> None:
    token = await users.token("customer_service")
    headers = {"Authorization": f"Bearer {token}"}
    as_form = await client.post("/graphql", data={"query": "{ __typename }"}, headers=headers)
    as_get = await client.get("/graphql", params={"query": "{ __typename }"}, headers=headers)
    assert as_form.status_code == 415
    assert as_get.status_code == 405


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_graphiql_is_served_only_in_development(settings: Any) -> None:
    from server.app import create_app
    from server.settings import Environment

    for environment, status in ((Environment.DEVELOPMENT, 200), (Environment.TEST, 405)):
        app = create_app(settings.model_copy(update={"environment": environment}))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.get("/graphql")
        assert response.status_code == status
        assert ("graphiql" in response.text.lower()) is (status == 200)

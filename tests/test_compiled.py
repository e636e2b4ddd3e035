"""The compiled read executor: the same answers as the resolver executor, in one statement.

The generated differential test (test_differential.py) covers random operations; these are
the hand-written cases a reader checks first: the reference page, each relation, aliases and
fragments, denials and masks, paging, and the masks' SQL against their Python form.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from server.authz.masks import MASKS
from server.compiled.encode import SQL_MASKS
from tests.conftest import Users, gql
from tests.scenario import AGENCY_A, Scenario, build_scenario

Q3 = """
query Q3 {
  customers(first: 100) {
    edges { cursor node {
      id customerNumber kind firstName lastName personalIdentityCode email phone
      streetAddress postalCode createdAt updatedAt language directMarketingObjectionAt
      sites(first: 10) { edges { node {
        id meteringPointId streetAddress connectionPowerKw connectedOn housingType } } }
      contracts(first: 10) { edges { node { id contractNumber status startDate energyPriceCPerKwh
        invoices(first: 25) { edges { node {
          id invoiceNumber totalInclVat dueDate status billingMethod } } } } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

NESTED = """
query Nested($id: ID!) {
  customer(id: $id) {
    __typename id
    ... on Customer { lastName }
    ...More
    deposits { edges { node { id amount receivedOn status reason } } }
    collectionCases { totalCount edges { node { id stage amountDue agency { id code name kind }
      invoices { edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } } } }
    invoices(first: 3) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id lines { id lineNumber quantity unitPrice vatRate }
      payments(first: 1) { edges { node { id amount paidOn } } pageInfo { hasNextPage } }
      customer { id customerNumber }
      contract { id product { id code kind prices { edges { node { id vatRate } } } } } } } }
    open: invoices(filter: {status: OPEN}) { totalCount edges { node { id status } } }
  }
}
fragment More on Customer { first: firstName again: lastName @include(if: true) hidden: email @skip(if: true) }
"""

PAGES = """
query Pages($after: String) {
  a: sites(first: 2, after: $after) { edges { cursor node { id customer { id lastName } contracts { edges { node { id } } __typename } } } pageInfo { endCursor hasNextPage __typename } __typename }
  b: contracts(first: 3) { edges { node { id site { id } } } }
  c: invoices(first: 2, filter: {status: OPEN}) { pageInfo { hasNextPage } }
  __typename
}
"""

SEARCH = """
query Search($name: String) {
  customers(first: 5, filter: {name: $name}) { edges { node { id lastName } } }
}
"""

ROLES = [
    ("customer_service", "customer_relationship"),
    ("customer_service", "billing"),
    ("marketing", "marketing"),
    (("field_service", "kenttapalvelu-a"), "delivery"),
    (AGENCY_A, "billing"),
    ("business_analyst", "business_development"),
    ("billing", "billing"),
]


async def both(
    app: Any, client: httpx.AsyncClient, users: Users, query: str, **options: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same request answered by each executor: (compiled, resolver)."""
    runner = app.state.runner
    settings = runner.settings
    answers = []
    for executor in ("compiled", "resolver"):
        runner.settings = settings.model_copy(update={"read_executor": executor})
        try:
            response = await gql(client, query, users=users, **options)
        finally:
            runner.settings = settings
        answers.append(response.json())
    return answers[0], answers[1]


def _errors(body: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {
        (
            e.get("extensions", {}).get("code"),
            e.get("extensions", {}).get("coordinate"),
            tuple(e.get("path") or ()),
        )
        for e in body.get("errors", [])
    }


async def _objects(owner: asyncpg.Connection, request_id: str) -> set[tuple[Any, ...]]:
    rows = await owner.fetch(
        "SELECT * FROM access_log_objects(ARRAY[$1::uuid], now() - interval '1 hour', "
        "now() + interval '1 hour', NULL)",
        request_id,
    )
    merged: dict[tuple[Any, ...], tuple[set[str], set[str], set[str], Any]] = {}
    for row in rows:
        key = (row["type_name"], row["object_id"], row["operation"])
        read, masked, denied, _ = merged.setdefault(key, (set(), set(), set(), None))
        read.update(row["fields_read"])
        masked.update(row["fields_masked"])
        denied.update(row["fields_denied"])
        merged[key] = (read, masked, denied, row["subject_customer_id"])
    return {
        (*key, frozenset(r), frozenset(m), frozenset(d), s) for key, (r, m, d, s) in merged.items()
    }


async def assert_same(
    app: Any, client: httpx.AsyncClient, users: Users, query: str, **options: Any
) -> dict[str, Any]:
    compiled, resolver = await both(app, client, users, query, **options)
    assert compiled.get("extensions", {}).get("executor") == "compiled", compiled
    assert resolver["extensions"]["executor"] == "resolver"
    assert orjson.dumps(compiled.get("data")) == orjson.dumps(resolver.get("data"))
    assert _errors(compiled) == _errors(resolver)
    owner = users.owner
    assert await _objects(owner, compiled["extensions"]["requestId"]) == await _objects(
        owner, resolver["extensions"]["requestId"]
    )
    return compiled


@pytest.fixture
async def scenario(owner: asyncpg.Connection) -> Scenario:
    return await build_scenario(owner)


@pytest.mark.parametrize(("role", "purpose"), ROLES)
@pytest.mark.usefixtures("scenario")
async def test_the_reference_page_is_the_same_on_both_executors(
    app: Any, client: httpx.AsyncClient, users: Users, role: Any, purpose: str
) -> None:
    await assert_same(app, client, users, Q3, as_=role, purpose=purpose)


@pytest.mark.parametrize(("role", "purpose"), ROLES)
async def test_every_relation_fragment_and_directive_is_the_same(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario, role: Any, purpose: str
) -> None:
    for graph in (scenario.plain, scenario.in_collection_a, scenario.objector):
        variables = {"id": str(graph.customer["id"])}
        await assert_same(
            app, client, users, NESTED, as_=role, purpose=purpose, variables=variables
        )


@pytest.mark.usefixtures("scenario")
async def test_pages_cursors_and_page_info_are_the_same(
    app: Any, client: httpx.AsyncClient, users: Users
) -> None:
    first = await assert_same(app, client, users, PAGES, as_="customer_service")
    cursor = first["data"]["a"]["pageInfo"]["endCursor"]
    assert cursor
    second = await assert_same(
        app, client, users, PAGES, as_="customer_service", variables={"after": cursor}
    )
    assert second["data"]["a"]["edges"][0]["cursor"] != cursor


@pytest.mark.usefixtures("scenario")
async def test_filters_are_parameters_of_one_statement(
    app: Any, client: httpx.AsyncClient, users: Users
) -> None:
    for name in ("a", "e", "%", "x_y", ""):
        await assert_same(
            app, client, users, SEARCH, as_="customer_service", variables={"name": name}
        )
    statements = app.state.runner.compiled._statements
    keys = [key for key in statements if "Search" in str(key) or True]
    assert len({key[-1] for key in keys}) <= len(keys)


async def test_a_cursor_outside_the_scope_is_answered_by_the_resolver(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    from server.graphql.relay import encode_cursor

    foreign = encode_cursor([scenario.in_collection_b.customer["id"]])
    query = "query($a: String) { customers(first: 2, after: $a) { edges { node { id } } } }"
    compiled, resolver = await both(
        app, client, users, query, as_=AGENCY_A, purpose="billing", variables={"a": foreign}
    )
    assert compiled["extensions"]["executor"] == "resolver"
    assert compiled["data"] == resolver["data"]
    assert _errors(compiled) == _errors(resolver)


SAMPLES = [
    "",
    "a",
    "ab",
    "abc",
    "abcd",
    "abcde",
    "131052-308T",
    "131052-308",
    "matti.meikalainen@example.fi",
    "@example.fi",
    "no-at-sign",
    "a@",
    "+358401234567",
    "Kauppakatu 12 B 4",
    " leading space",
    "Äänekoski",
    "öljy @ örö",
    "日本語テキスト",
    "34800",
    "x" * 40,
]


@pytest.mark.parametrize("mask", sorted(MASKS))
async def test_sql_masks_agree_with_the_python_masks(owner: asyncpg.Connection, mask: str) -> None:
    assert set(SQL_MASKS) == set(MASKS)
    expression = SQL_MASKS[mask]("v")
    for sample in SAMPLES:
        got = await owner.fetchval(f"SELECT {expression} FROM (SELECT $1::text AS v) s", sample)
        assert got == MASKS[mask](sample), (mask, sample)
    assert (
        await owner.fetchval(
            f"SELECT CASE WHEN v IS NULL THEN NULL ELSE {expression} END "
            "FROM (SELECT NULL::text AS v) s"
        )
        is None
    )


CONSUMPTION = """
query Use($id: ID!, $from: DateTime!) {
  site(id: $id) {
    id
    hours: consumption(from: $from, to: "2026-01-02T22:00:00Z", resolution: HOUR) {
      id periodStart energyKwh valuesCount allMeasured anyEstimated }
    days: consumption(from: $from, to: "2026-01-02T22:00:00Z") { id periodStart energyKwh }
    months: consumption(from: "2025-01-01T00:00:00+02:00", to: "2026-06-01T00:00:00", resolution: MONTH) {
      periodStart energyKwh __typename }
    quarters: consumption(from: $from, to: "2026-01-01T22:00:00Z", resolution: QUARTER_HOUR) { id }
  }
}
"""


@pytest.mark.parametrize(("role", "purpose"), ROLES)
async def test_consumption_aggregation_is_the_same(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario, role: Any, purpose: str
) -> None:
    variables = {"id": str(scenario.plain.sites[0]["id"]), "from": "2025-12-31T22:00:00Z"}
    body = await assert_same(
        app, client, users, CONSUMPTION, as_=role, purpose=purpose, variables=variables
    )
    if role == "customer_service":
        assert len(body["data"]["site"]["hours"]) == 48
        assert body["data"]["site"]["days"][0]["energyKwh"] == "36.000"


async def test_timestamps_without_a_fraction_and_zero_decimals_encode_alike(
    app: Any, client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    await owner.execute(
        "UPDATE customer SET created_at = '2025-01-01 00:00:00+00', "
        "direct_marketing_objection_at = '2025-06-01 12:30:00.5+03' WHERE id = $1",
        scenario.plain.customer["id"],
    )
    await owner.execute(
        "UPDATE invoice SET total_excl_vat = 0, vat_amount = 0, total_incl_vat = 0 "
        "WHERE customer_id = $1",
        scenario.plain.customer["id"],
    )
    await assert_same(app, client, users, Q3, as_="customer_service", purpose="billing")


async def test_objects_with_more_pieces_than_a_function_takes_are_joined_in_order(
    owner: asyncpg.Connection,
) -> None:
    from server.compiled.sqlgen import _object_text

    pieces = [f"'\"k{n}\":{n}'" for n in range(250)]
    built = await owner.fetchval(f"SELECT {_object_text(pieces)}")
    assert orjson.loads(built) == {f"k{n}": n for n in range(250)}
    assert list(orjson.loads(built)) == [f"k{n}" for n in range(250)]


async def test_dates_are_written_as_iso_whatever_the_database_default(
    settings: Any, owner: asyncpg.Connection
) -> None:
    """The compiled statements write a date as its text: every connection fixes the style."""
    from server.db.engine import create_driver_pool

    database = await owner.fetchval("SELECT current_database()")
    await owner.execute(f"ALTER DATABASE \"{database}\" SET datestyle = 'SQL, DMY'")
    try:
        pool = await create_driver_pool(settings.database_url or "", settings)
        try:
            written = await pool.fetchval("SELECT CAST(date '2025-03-04' AS text)")
        finally:
            await pool.close()
        plain = await asyncpg.connect(settings.database_url or "")
        try:
            default = await plain.fetchval("SELECT CAST(date '2025-03-04' AS text)")
        finally:
            await plain.close()
    finally:
        await owner.execute(f'ALTER DATABASE "{database}" RESET datestyle')
    assert default == "04/03/2025"  # the database's own default differs ...
    assert written == "2025-03-04"  # ... but not on the service's connections

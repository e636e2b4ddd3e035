"""Query limits: linear in the document, fragments counted per use, and a cost limit."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import GraphQLError, NoFragmentCyclesRule, parse, validate

from server.graphql.errors import UserInputError
from server.graphql.limits import (
    LIMIT_RULES,
    MAX_ALIASES,
    MAX_COST,
    MAX_DEPTH,
    MAX_DIRECTIVES,
    DocumentMeasure,
    check_cost,
    operation_cost,
)
from server.schema import schema
from server.settings import Settings
from server.sites.consumption import MAX_CONSUMPTION_WINDOW, check_consumption_window
from tests.conftest import Users, gql

SETTINGS = Settings()
GRAPHQL_SCHEMA = schema()._schema


def doubling_fragments(levels: int, leaf: str = "id", extra: str = "") -> str:
    """`fragment G0 { ...G1 ...G1 }` ... `fragment G<levels> { leaf }`: 2^levels paths."""
    lines = [
        f"fragment G{i} on Customer {{ {extra}...G{i + 1} ...G{i + 1} }}" for i in range(levels)
    ]
    lines.append(f"fragment G{levels} on Customer {{ {leaf} }}")
    return "\n".join(lines)


EXPONENTIAL = (
    "{ customers(first: 1) { edges { node { ...G0 } } } }\n" + doubling_fragments(23)  # 1.3 kB
)


def limit_errors(query: str) -> list[GraphQLError]:
    return list(validate(GRAPHQL_SCHEMA, parse(query), list(LIMIT_RULES)))


def test_the_exponential_document_is_small() -> None:
    assert len(EXPONENTIAL) < 1400


def test_fragments_are_measured_once_and_counted_per_use() -> None:
    document = parse(
        "{ customers { edges { node { ...G0 } } } }\n"
        + doubling_fragments(30, leaf="a: id @include(if: true)")
    )
    started = time.perf_counter()
    measure = DocumentMeasure(document).operation(document.definitions[0])  # type: ignore[arg-type]
    assert time.perf_counter() - started < 1
    assert measure.aliases == 2**30
    assert measure.directives == 2**30
    assert measure.depth == 3  # customers, edges, node (as Strawberry counted)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "{ customers { edges { node { ...G0 } } } }\n" + doubling_fragments(25, leaf="a: id"),
            f"aliases; the limit is {MAX_ALIASES}",
        ),
        (
            "{ customers { edges { node { ...G0 } } } }\n"
            + doubling_fragments(25, leaf="id @skip(if: false)"),
            f"directives; the limit is {MAX_DIRECTIVES}",
        ),
        (
            "query Deep { customers { edges { node { ...D } } } }\n"
            "fragment D on Customer { sites { edges { node { customer { sites { edges { node "
            "{ customer { id } } } } } } } } }",
            f"Operation 'Deep' has depth 11; the limit is {MAX_DEPTH}",
        ),
    ],
)
def test_limits_reach_into_fragments(query: str, message: str) -> None:
    started = time.perf_counter()
    errors = limit_errors(query)
    assert time.perf_counter() - started < 1
    assert [message in e.message for e in errors] == [True], errors
    assert errors[0].extensions == {"code": "QUERY_TOO_COMPLEX"}


def test_an_operation_over_several_limits_is_told_each() -> None:
    query = "{ customers { edges { node { ...G0 } } } }\n" + doubling_fragments(
        25, leaf="a: id @skip(if: false)"
    )
    messages = [e.message for e in limit_errors(query)]
    assert messages == [
        f"The operation uses {2**25} aliases; the limit is {MAX_ALIASES}.",
        f"The operation uses {2**25} directives; the limit is {MAX_DIRECTIVES}.",
    ]


def test_depth_counts_as_before() -> None:
    """Every field with a selection counts, a connection's edges and node too."""
    nine = "customer { id }"
    for _ in range(2):
        nine = f"customer {{ sites {{ edges {{ node {{ {nine} }} }} }} }}"
    assert limit_errors('{ site(id: "x") { ' + nine + " } }") == []  # depth 10
    eleven = nine.replace("customer { id }", "customer { sites { totalCount } }")
    assert limit_errors('{ site(id: "x") { ' + eleven + " } }")  # 11


def test_introspection_fields_do_not_count_towards_depth() -> None:
    from graphql import get_introspection_query

    assert limit_errors(get_introspection_query()) == []


def test_fragment_cycles_are_reported_without_looping() -> None:
    query = (
        "{ customers { edges { node { ...A } } } }\n"
        "fragment A on Customer { id ...B }\n"
        "fragment B on Customer { a: id ...A }"
    )
    document = parse(query)
    errors = validate(GRAPHQL_SCHEMA, document, [NoFragmentCyclesRule, *LIMIT_RULES])
    assert len(errors) == 1
    assert "Cannot spread fragment" in errors[0].message
    cost = operation_cost(GRAPHQL_SCHEMA, document, None, None, settings=SETTINGS)
    assert cost is not None and cost < 1000


def test_cost_of_the_exponential_document_is_computed_linearly() -> None:
    started = time.perf_counter()
    error = check_cost(GRAPHQL_SCHEMA, parse(EXPONENTIAL), None, None, settings=SETTINGS)
    assert time.perf_counter() - started < 1
    assert error is not None
    assert error.extensions == {"code": "QUERY_TOO_COMPLEX"}
    assert f"the limit is {MAX_COST:,}" in error.message


def cost(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> float:
    value = operation_cost(GRAPHQL_SCHEMA, parse(query), name, variables, settings=SETTINGS)
    assert value is not None
    return value


def test_connections_pay_their_page_size_with_variables_resolved() -> None:
    query = "query($n: Int) { customers(first: $n) { edges { node { id lastName } } } }"
    default = cost(query)
    assert cost(query, {"n": SETTINGS.default_page_size}) == default
    assert cost(query, {"n": 100}) > 4 * default
    assert cost(query.replace("$n: Int", "$n: Int = 100")) == cost(query, {"n": 100})
    # A page larger than the maximum is refused by the resolver; it costs the maximum.
    assert cost(query, {"n": 10_000}) == cost(query, {"n": SETTINGS.max_page_size})


def test_consumption_pays_for_the_steps_of_its_window() -> None:
    query = (
        'query($r: ConsumptionResolution) { site(id: "x") { consumption(from: '
        '"2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", resolution: $r) { energyKwh } } }'
    )
    assert cost(query, {"r": "QUARTER_HOUR"}) > 25 * cost(query, {"r": "DAY"})
    assert cost(query, {"r": "HOUR"}) > 6 * cost(query, {"r": "DAY"})


def test_nested_pages_multiply_the_cost_and_last_counts_as_first() -> None:
    query = """query($n: Int, $m: Int) { customers(first: $n) { edges { node {
      invoices(first: $m) { totalCount edges { node { id status } } } } } } }"""
    base = cost(query, {"n": 10, "m": 5})
    assert cost(query, {"n": 10, "m": 50}) > 9 * base
    assert cost(query, {"n": 100, "m": 50}) > 90 * base
    backwards = query.replace("customers(first: $n)", "customers(last: $n)")
    assert cost(backwards, {"n": 10, "m": 5}) == base
    # The nested default is the page size's default (20).
    assert cost(query, {"n": 10}) == cost(query, {"n": 10, "m": 20})


def test_nodes_pay_for_each_id() -> None:
    one = cost('{ nodes(ids: ["a"]) { id ... on Customer { lastName email } } }')
    ten = cost(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Customer { lastName email } } }",
        {"ids": ["a"] * 10},
    )
    assert ten > 9 * (one - 2)


def test_the_reference_page_is_within_the_cost_limit() -> None:
    reference = """
    query Q3 {
      customers(first: 100) {
        edges { node {
          id customerNumber firstName lastName personalIdentityCode email phone streetAddress
          sites(first: 10) { edges { node {
            id meteringPointId streetAddress housingType heatingType mainFuse } } }
          contracts(first: 10) { edges { node {
            id contractNumber status startDate endDate basicFeeEurPerMonth
            invoices(first: 20) { edges { node {
              id invoiceNumber referenceNumber issueDate dueDate totalInclVat status } } } } } }
        } }
        pageInfo { hasNextPage endCursor }
      }
    }
    """
    assert cost(reference) < MAX_COST


def test_only_the_operation_that_runs_is_priced() -> None:
    query = (
        "query Small { customers(first: 1) { edges { node { id } } } }\n"
        "query Large { customers(first: 100) { edges { node { ...G0 } } } }\n"
        + doubling_fragments(20)
    )
    document = parse(query)
    assert check_cost(GRAPHQL_SCHEMA, document, "Small", None, settings=SETTINGS) is None
    assert check_cost(GRAPHQL_SCHEMA, document, "Large", None, settings=SETTINGS) is not None
    assert check_cost(GRAPHQL_SCHEMA, document, None, None, settings=SETTINGS) is None


THREE_WINDOWS = (
    '{sites(first:100){edges{node{a:consumption(from:"2025-01-01T00:00:00Z",to:"2026-01-01T0'
    '0:00:00Z",resolution:QUARTER_HOUR){energyKwh}b:consumption(from:"2024-01-01T00:00:00Z",to'
    ':"2025-01-01T00:00:00Z",resolution:QUARTER_HOUR){energyKwh}c:consumption(from:"2023-01-01'
    'T00:00:00Z",to:"2024-01-01T00:00:00Z",resolution:QUARTER_HOUR){energyKwh}}}}}'
)


async def test_the_exponential_document_is_refused_at_once(
    client: httpx.AsyncClient, users: Users
) -> None:
    await users.token("customer_service")
    started = time.perf_counter()
    response = await gql(client, EXPONENTIAL, as_="customer_service", users=users)
    elapsed = time.perf_counter() - started
    body = response.json()
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "too complex" in error["message"]
    assert elapsed < 5  # a hang guard: it took a minute before


async def test_aliased_consumption_windows_are_refused(
    client: httpx.AsyncClient, users: Users
) -> None:
    assert len(THREE_WINDOWS) < 370
    body = (await gql(client, THREE_WINDOWS, as_="customer_service", users=users)).json()
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert f"limit is {MAX_COST:,}" in error["message"]


async def test_a_refused_cost_is_recorded_in_the_access_log(
    client: httpx.AsyncClient, users: Users, owner: Any
) -> None:
    response = await gql(client, EXPONENTIAL, as_="customer_service", users=users)
    assert response.status_code == 200
    body = response.json()
    request_id = (
        body.get("extensions", {}).get("requestId")
        or (body["errors"][0]["extensions"]["requestId"])
    )
    row = await owner.fetchrow(
        "SELECT outcome, detail FROM access_log_request WHERE request_id = $1",
        uuid.UUID(request_id),
    )
    assert (row["outcome"], row["detail"]) == ("denied", "query too complex")


AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("resolution", "longest"),
    [
        ("QUARTER_HOUR", timedelta(days=31)),
        ("HOUR", timedelta(days=93)),
        ("DAY", timedelta(days=732)),
        ("MONTH", timedelta(days=3660)),
    ],
)
def test_consumption_windows_are_capped_per_resolution(resolution: str, longest: timedelta) -> None:
    assert MAX_CONSUMPTION_WINDOW[resolution] == longest
    check_consumption_window(start=AT, end=AT + longest, resolution=resolution)
    with pytest.raises(UserInputError) as refused:
        check_consumption_window(
            start=AT, end=AT + longest + timedelta(minutes=15), resolution=resolution
        )
    assert refused.value.extensions is not None
    assert refused.value.extensions["field"] == "to"
    assert "at most" in refused.value.message


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(UserInputError):
        check_consumption_window(start=AT, end=AT, resolution="DAY")


async def test_a_long_window_is_refused_by_the_resolver(
    client: httpx.AsyncClient, users: Users, owner: Any
) -> None:
    from tests import factories

    customer = await factories.customer(owner)
    site = await factories.site(owner, customer_id=customer["id"])
    query = (
        'query($id: ID!) { site(id: $id) { consumption(from: "2025-01-01T00:00:00Z", '
        'to: "2025-03-01T00:00:00Z", resolution: QUARTER_HOUR) { energyKwh } } }'
    )
    body = (
        await gql(
            client, query, as_="customer_service", users=users, variables={"id": str(site["id"])}
        )
    ).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "to"

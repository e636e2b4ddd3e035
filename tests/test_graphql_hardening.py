"""One-request GraphQL attacks fail, and refusals reveal nothing about the schema."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Users, gql

GENERIC = "The query is not valid for this API."
# The resolver executor answers this with server.customers.queries.root_connection.
CUSTOMER_CURSORS = "{ customers { edges { cursor } } }"


async def _errors(client: httpx.AsyncClient, users: Users, query: str) -> list[dict[str, Any]]:
    body = (await gql(client, query, as_="customer_service", users=users)).json()
    assert body.get("data") is None
    errors: list[dict[str, Any]] = body["errors"]
    return errors


@pytest.mark.parametrize(
    "query",
    [
        "{ customr { id } }",  # a typo would get a suggestion
        "{ customers { edges { node { personalIdentityCod } } } }",
        "{ customer { id } }",  # a missing argument names the argument and its type
        "{ customers }",  # a missing selection names the type
    ],
)
async def test_validation_errors_are_collapsed(
    client: httpx.AsyncClient, users: Users, query: str
) -> None:
    errors = await _errors(client, users, query)
    assert {e["message"] for e in errors} == {GENERIC}
    assert "Did you mean" not in str(errors)
    assert "Customer" not in str(errors)


async def test_deep_queries_are_refused(client: httpx.AsyncClient, users: Users) -> None:
    nested = "id"
    for _ in range(6):  # depth 25, the limit is 10
        nested = f"customer {{ sites {{ edges {{ node {{ {nested} }} }} }} }}"
    query = '{ site(id: "x") { ' + nested + " } }"
    errors = await _errors(client, users, query)
    # Refused by its cost (20^6 sites) before validation would refuse its depth 25.
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "the limit is" in str(errors[0]["message"])


async def test_alias_overloading_is_refused(client: httpx.AsyncClient, users: Users) -> None:
    aliases = " ".join(f'a{i}: customer(id: "{i}") {{ id }}' for i in range(16))
    errors = await _errors(client, users, "{ " + aliases + " }")
    assert errors[0]["message"] == "The operation uses 16 aliases; the limit is 15."
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_directive_overloading_is_refused(client: httpx.AsyncClient, users: Users) -> None:
    directives = " ".join("@include(if: true)" for _ in range(21))
    errors = await _errors(client, users, "{ __typename " + directives + " }")
    assert errors[0]["message"] == "The operation uses 21 directives; the limit is 20."
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_batched_requests_are_refused(client: httpx.AsyncClient, users: Users) -> None:
    token = await users.token("customer_service")
    response = await client.post(
        "/graphql",
        json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_csrf_friendly_content_types_are_refused(
    client: httpx.AsyncClient, users: Users, content_type: str
) -> None:
    token = await users.token("customer_service")
    response = await client.post(
        "/graphql",
        content='{"query": "{ __typename }"}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    assert response.status_code == 415


async def test_introspection_can_be_switched_off(
    app: object, client: httpx.AsyncClient, users: Users
) -> None:
    runner = app.state.runner  # type: ignore[attr-defined]
    settings = runner.settings
    runner.settings = settings.model_copy(update={"introspection": False})
    try:
        response = await gql(
            client, "{ __schema { types { name } } }", as_="customer_service", users=users
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["message"] == GENERIC
        typename = await gql(client, "{ __typename }", as_="customer_service", users=users)
        assert typename.json()["data"] == {"__typename": "Query"}
    finally:
        runner.settings = settings


def customers_fail_with(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The resolver executor's customer list (CUSTOMER_CURSORS) raises `error`."""
    import server.customers.queries as queries

    async def failing(*_: object, **__: object) -> None:
        raise error

    monkeypatch.setattr(queries, "root_connection", failing)


@pytest.mark.usefixtures("resolver_executor")
async def test_unexpected_errors_are_masked_with_a_correlation_id(
    client: httpx.AsyncClient, users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers_fail_with(monkeypatch, RuntimeError("secret detail from deep inside"))
    body = (await gql(client, CUSTOMER_CURSORS, as_="customer_service", users=users)).json()
    assert "secret detail" not in str(body)
    error = body["errors"][0]
    assert error["message"] == "Internal error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == body["extensions"]["requestId"]


async def test_a_request_over_its_time_limit_is_cancelled_without_data(
    app: Any, client: httpx.AsyncClient, users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import server.customers.queries as queries

    async def slow(*_: object, **__: object) -> list[object]:
        await asyncio.sleep(5)
        return []

    from server.compiled.executor import CompiledExecutor

    async def slow_compiled(*_: object, **__: object) -> None:
        await asyncio.sleep(5)

    monkeypatch.setattr(queries, "root_connection", slow)
    monkeypatch.setattr(CompiledExecutor, "execute", slow_compiled)
    runner = app.state.runner
    settings = runner.settings
    runner.settings = settings.model_copy(update={"request_timeout_seconds": 0.3})
    try:
        response = await gql(client, CUSTOMER_CURSORS, as_="customer_service", users=users)
    finally:
        runner.settings = settings
    assert response.status_code == 503
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


# GraphQL over HTTP: media type negotiation and status codes.

NEW = "application/graphql-response+json"
LEGACY = "application/json"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, LEGACY),
        ("", LEGACY),
        ("*/*", LEGACY),
        ("application/*", LEGACY),
        ("application/json", LEGACY),
        (NEW, NEW),
        (f"{NEW}, application/json", NEW),
        (f"application/json, {NEW}", NEW),
        (f"application/json;q=0.9, {NEW}", NEW),
        (f"{NEW};q=0.5, application/json", LEGACY),
        (f"{NEW};q=0, */*", LEGACY),
        (f"{NEW}; charset=utf-8; q=0.8, */*;q=0.1", NEW),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", NEW),
        ("text/html", LEGACY),
        (f"{NEW};q=abc", LEGACY),
    ],
)
def test_response_media_type(accept: str | None, expected: str) -> None:
    from server.graphql.http import response_media_type

    assert response_media_type(accept) == expected


def test_status_for() -> None:
    from server.graphql.http import status_for

    assert status_for(NEW, request_error=True) == 400
    assert status_for(NEW, request_error=False) == 200
    assert status_for(LEGACY, request_error=True) == 200
    assert status_for(LEGACY, request_error=False) == 200


async def _post(
    client: httpx.AsyncClient, users: Users, query: str, accept: str | None, **extra: Any
) -> httpx.Response:
    token = await users.token("customer_service")
    headers = {"Authorization": f"Bearer {token}"}
    if accept is not None:
        headers["Accept"] = accept
    return await client.post("/graphql", json={"query": query, **extra}, headers=headers)


@pytest.mark.parametrize(
    "query",
    [
        "{ customr { id } }",  # does not validate
        "{ customers { ",  # does not parse
        "query($n: Int) { customers(first: $n) { edges { cursor } } }",  # bad variable below
    ],
)
async def test_request_errors_are_400_under_graphql_response_json(
    client: httpx.AsyncClient, users: Users, query: str
) -> None:
    extra = {"variables": {"n": "many"}} if "$n" in query else {}
    response = await _post(client, users, query, NEW, **extra)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(NEW)
    body = response.json()
    assert "data" not in body
    assert body["errors"]

    legacy = await _post(client, users, query, None, **extra)
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith(LEGACY)
    assert legacy.json()["data"] is None


async def test_executed_requests_are_200_under_graphql_response_json(
    client: httpx.AsyncClient, users: Users
) -> None:
    response = await _post(client, users, "{ __typename }", f"{NEW}, {LEGACY};q=0.9")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(NEW)
    assert response.json()["data"] == {"__typename": "Query"}


async def test_over_cost_requests_are_400_under_graphql_response_json(
    client: httpx.AsyncClient, users: Users
) -> None:
    from tests.test_limits import EXPONENTIAL

    response = await _post(client, users, EXPONENTIAL, NEW)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
